"""How intake reaches the tickets service: the command bus port, over NATS JetStream or in memory for tests."""
