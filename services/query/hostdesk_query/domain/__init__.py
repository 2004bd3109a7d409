"""The read model's rules: what each event does to a ticket, who may read what. No I/O here."""
