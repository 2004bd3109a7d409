"""How intake reaches the tickets service: a command bus, over NATS JetStream or in memory for tests."""
