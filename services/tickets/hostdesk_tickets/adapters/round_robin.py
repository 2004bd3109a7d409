"""Round-robin turns: the port the application draws a department's turns from, its PostgreSQL counter, and an
in-memory fake.

A department that takes turns (``Department.round_robin``) gives each new ticket nobody else is named for to its
next available agent. The turn is a counter per (organisation, department) in the tickets schema, taken in one
statement, so however many replicas open tickets at once each turn is taken once. Like ``nextval``, a turn is
never given back: a decision decided again (a conflicting save) takes a new one, and the agent of the first is
skipped once.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from psycopg_pool import ConnectionPool

from hostdesk_tickets.settings import Settings

TURNS_TABLE = "round_robin_turns"  # in the tickets schema, created with it


def turns_table_ddl(schema: str) -> str:
    return (
        f'CREATE TABLE IF NOT EXISTS "{schema}".{TURNS_TABLE} ('
        "organisation_id text NOT NULL, department text NOT NULL, turns bigint NOT NULL, "
        "PRIMARY KEY (organisation_id, department))"
    )


class TurnCounter(Protocol):
    def next_turns(self, organisation_id: str, department: str, count: int) -> list[int]:
        """The department's next ``count`` turns (1, 2, 3... for its first tickets), in one round trip."""
        ...

    def close(self) -> None: ...


class TableTurns:
    """Turns from a row per department: ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` takes ``count`` of
    them in one statement, under the row's lock, so two replicas never take the same turn."""

    def __init__(self, settings: Settings) -> None:
        table = f'"{settings.db_schema}".{TURNS_TABLE}'
        self.statement = (
            f"INSERT INTO {table} AS counter (organisation_id, department, turns) VALUES (%s, %s, %s) "
            "ON CONFLICT (organisation_id, department) DO UPDATE SET turns = counter.turns + EXCLUDED.turns "
            "RETURNING counter.turns"
        )
        self.pool = ConnectionPool(
            settings.database_url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=True, timeout=5
        )

    def next_turns(self, organisation_id: str, department: str, count: int) -> list[int]:
        with self.pool.connection() as connection:
            row = connection.execute(self.statement, (organisation_id, department, count)).fetchone()
        assert row is not None  # RETURNING always answers one row
        last = int(row[0])
        return list(range(last - count + 1, last + 1))

    def close(self) -> None:
        self.pool.close()


class CountingTurns:
    """Turns in memory, counting the round trips the table would cost."""

    def __init__(self) -> None:
        self.taken: Counter[tuple[str, str]] = Counter()
        self.round_trips = 0

    def next_turns(self, organisation_id: str, department: str, count: int) -> list[int]:
        self.round_trips += 1
        first = self.taken[organisation_id, department] + 1
        self.taken[organisation_id, department] += count
        return list(range(first, first + count))

    def close(self) -> None:
        pass
