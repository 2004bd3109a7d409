"""The event store on PostgreSQL: the eventsourcing application's environment, its schema, ticket numbers."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from hostdesk_tickets.settings import Settings

NUMBER_SEQUENCE = "ticket_number_seq"


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
    """The schema and the ticket-number sequence; the library creates its own tables in the schema."""
    with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=5) as connection:
        connection.execute("SELECT pg_advisory_lock(hashtext('hostdesk-tickets-schema'))")
        try:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.db_schema}"')
            connection.execute(f'CREATE SEQUENCE IF NOT EXISTS "{settings.db_schema}".{NUMBER_SEQUENCE}')
        finally:
            connection.execute("SELECT pg_advisory_unlock(hashtext('hostdesk-tickets-schema'))")


class SequenceNumbers:
    """Ticket numbers from a PostgreSQL sequence. ``nextval`` is never rolled back: a ticket whose save
    fails leaves a gap, which is harmless."""

    def __init__(self, settings: Settings) -> None:
        sequence = f'"{settings.db_schema}".{NUMBER_SEQUENCE}'
        self.statement = f"SELECT nextval('{sequence}') FROM generate_series(1, %s)"
        self.pool = ConnectionPool(
            settings.database_url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=True, timeout=5
        )

    def next_value(self) -> int:
        return self.next_values(1)[0]

    def next_values(self, count: int) -> list[int]:
        with self.pool.connection() as connection:
            rows = connection.execute(self.statement, (count,)).fetchall()
        return [int(row[0]) for row in rows]

    def close(self) -> None:
        self.pool.close()
