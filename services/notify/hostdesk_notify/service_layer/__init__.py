"""What notify does with an event and with its outbox, through the ports only."""
