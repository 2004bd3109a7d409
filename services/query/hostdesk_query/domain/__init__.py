"""The read model's rules: what each event does to a ticket, who may read what, how the catch-up holds an event
ahead of its ticket. No I/O here."""
