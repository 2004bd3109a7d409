"""What drives notify besides HTTP: the ticket events consumer and the outbox sender's loop."""
