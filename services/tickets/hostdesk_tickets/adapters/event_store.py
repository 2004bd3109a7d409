"""The event store on PostgreSQL: the eventsourcing application's environment and its schema (with the ticket-number
sequence and the round-robin turns). Its fake is the library's own in-memory store
(``PERSISTENCE_MODULE=eventsourcing.popo``)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from hostdesk_tickets.adapters.round_robin import turns_table_ddl
from hostdesk_tickets.adapters.ticket_numbers import NUMBER_SEQUENCE, imported_numbers_ddl
from hostdesk_tickets.settings import Settings


def eventsourcing_env(settings: Settings) -> dict[str, str]:
    """Translate ``DATABASE_URL`` into the eventsourcing library's environment keys."""
    info: dict[str, Any] = conninfo_to_dict(settings.database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(info.get("dbname", "postgres")),
        "POSTGRES_HOST": str(info.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(info.get("port", 5432)),
        "POSTGRES_USER": str(info.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(info.get("password", "")),
        "POSTGRES_SCHEMA": settings.db_schema,
        "POSTGRES_POOL_SIZE": str(settings.pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.pool_size),
        # No ping before each checkout (a round trip per command): the library retries a command whose
        # connection turned out dead, which covers a PostgreSQL restart.
        "POSTGRES_PRE_PING": "n",
        "POSTGRES_CONNECT_TIMEOUT": "5",
        # The plpgsql insert path takes no table lock, so commit order could differ from notification order,
        # and the relay relies on that order. Keep the default path.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }


def prepare_schema(settings: Settings) -> None:
    """The schema, the ticket-number sequence and the round-robin turns; the library creates its own tables in the
    schema."""
    with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute("SELECT pg_advisory_lock(hashtext('hostdesk-tickets-schema'))")
        try:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.db_schema}"')
            connection.execute(f'CREATE SEQUENCE IF NOT EXISTS "{settings.db_schema}".{NUMBER_SEQUENCE}')
            connection.execute(turns_table_ddl(settings.db_schema))
            connection.execute(imported_numbers_ddl(settings.db_schema))
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext('hostdesk-tickets-schema'))")
