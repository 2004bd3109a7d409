"""What happens when events arrive (live batches, the catch-up's chunks) and when a ticket is read."""
