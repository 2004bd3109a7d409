"""Outbound ports (Protocols in ``ports``) and their implementations: PostgreSQL, NATS, and the in-memory fakes."""
