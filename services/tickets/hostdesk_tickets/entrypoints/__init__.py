"""What drives the service besides HTTP: the commands consumer, the relay, the auto-closer."""
