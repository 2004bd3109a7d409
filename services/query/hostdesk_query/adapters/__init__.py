"""PostgreSQL, NATS and the in-memory fakes, each behind a Protocol of ``ports``."""
