"""Notify's ports (Protocols) and what implements them: PostgreSQL, SMTP, NATS, and in-memory fakes."""
