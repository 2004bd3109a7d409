"""Local tooling: find or start PostgreSQL and NATS, an SMTP sink, and the one-command launcher."""
