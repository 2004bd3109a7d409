"""Notify's ports (Protocols) and what implements them: PostgreSQL, SMTP, and in-memory fakes."""
