"""Ticket numbers: the port the application draws them from, its PostgreSQL sequence, and an in-memory fake."""

from __future__ import annotations

import itertools
from typing import Protocol

from psycopg_pool import ConnectionPool

from hostdesk_tickets.settings import Settings

NUMBER_SEQUENCE = "ticket_number_seq"  # in the tickets schema, created with it


class NumberAllocator(Protocol):
    def next_value(self) -> int:
        """The next value of the ticket-number sequence (1, 2, 3...; gaps allowed)."""
        ...

    def next_values(self, count: int) -> list[int]:
        """The next ``count`` values, in one round trip."""
        ...

    def close(self) -> None: ...


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


class CountingNumbers:
    """Ticket numbers in memory, counting the round trips a real sequence would cost."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)
        self.round_trips = 0

    def next_value(self) -> int:
        return self.next_values(1)[0]

    def next_values(self, count: int) -> list[int]:
        self.round_trips += 1
        return [next(self.counter) for _ in range(count)]

    def close(self) -> None:
        pass
