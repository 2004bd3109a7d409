"""Ticket numbers: the port the application draws them from, its PostgreSQL sequence, and an in-memory fake.

A number an imported ticket keeps (the previous helpdesk's) is reserved in the table ``imported_numbers``: a
value of the sequence whose number is reserved is skipped. Reserving checks, after the reservation is written,
that the sequence has not drawn that number already; drawing checks the reservations after its ``nextval``. So of
a draw and a reservation of the same number at once, one gives way: the draw skips it, or the reservation is
taken back and the import refused.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from psycopg_pool import ConnectionPool

from hostdesk_tickets.domain.numbers import sequence_value_of, ticket_number
from hostdesk_tickets.settings import Settings

NUMBER_SEQUENCE = "ticket_number_seq"  # in the tickets schema, created with it
IMPORTED_NUMBERS = "imported_numbers"


def imported_numbers_ddl(schema: str) -> str:
    return (
        f'CREATE TABLE IF NOT EXISTS "{schema}".{IMPORTED_NUMBERS} (number bigint PRIMARY KEY, ticket_id uuid NOT NULL)'
    )


class NumberAllocator(Protocol):
    def next_value(self) -> int:
        """The next value of the ticket-number sequence (1, 2, 3...; gaps allowed)."""
        ...

    def next_values(self, count: int) -> list[int]:
        """The next ``count`` values, in one round trip (two while numbers are reserved), none of a reserved
        number."""
        ...

    def reserve(self, number: int, ticket_id: UUID) -> bool:
        """Keep ``number`` for the imported ticket ``ticket_id``: whether it is that ticket's now (free, or
        reserved for it before), never another's."""
        ...

    def close(self) -> None: ...


class SequenceNumbers:
    """Ticket numbers from a PostgreSQL sequence. ``nextval`` is never rolled back: a ticket whose save
    fails leaves a gap, which is harmless."""

    def __init__(self, settings: Settings) -> None:
        self.sequence = f'"{settings.db_schema}".{NUMBER_SEQUENCE}'
        self.imported = f'"{settings.db_schema}".{IMPORTED_NUMBERS}'
        self.statement = f"SELECT nextval('{self.sequence}') FROM generate_series(1, %s)"
        self.pool = ConnectionPool(
            settings.database_url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=True, timeout=5
        )

    def next_value(self) -> int:
        return self.next_values(1)[0]

    def next_values(self, count: int) -> list[int]:
        values: list[int] = []
        with self.pool.connection() as connection:
            while len(values) < count:
                rows = connection.execute(self.statement, (count - len(values),)).fetchall()
                drawn = [int(row[0]) for row in rows]
                numbers = [ticket_number(value) for value in drawn]
                # A statement of its own, after the nextval: it sees every reservation written before the draw.
                reserved = {
                    int(row[0])
                    for row in connection.execute(
                        f"SELECT number FROM {self.imported} WHERE number = ANY(%s)", (numbers,)
                    ).fetchall()
                }
                values += [value for value, number in zip(drawn, numbers, strict=True) if number not in reserved]
        return values

    def reserve(self, number: int, ticket_id: UUID) -> bool:
        with self.pool.connection() as connection:
            written = connection.execute(
                f"INSERT INTO {self.imported} (number, ticket_id) VALUES (%s, %s) "
                "ON CONFLICT (number) DO NOTHING RETURNING ticket_id",
                (number, ticket_id),
            ).fetchone()
            if written is None:
                held = connection.execute(
                    f"SELECT ticket_id FROM {self.imported} WHERE number = %s", (number,)
                ).fetchone()
                return held is not None and held[0] == ticket_id
            value = sequence_value_of(number)
            if value is None:
                return True  # a number the sequence never draws (fewer than six digits)
            state = connection.execute(f"SELECT last_value, is_called FROM {self.sequence}").fetchone()
            drawn = 0 if state is None else (state[0] if state[1] else state[0] - 1)
            if value <= drawn:
                connection.execute(
                    f"DELETE FROM {self.imported} WHERE number = %s AND ticket_id = %s", (number, ticket_id)
                )
                return False  # drawn already: a ticket of ours has it (or had it, and left a gap)
        return True

    def close(self) -> None:
        self.pool.close()


class CountingNumbers:
    """Ticket numbers in memory, counting the round trips a real sequence would cost."""

    def __init__(self) -> None:
        self.drawn = 0  # the last value drawn
        self.round_trips = 0
        self.reserved: dict[int, UUID] = {}

    def next_value(self) -> int:
        return self.next_values(1)[0]

    def next_values(self, count: int) -> list[int]:
        self.round_trips += 1
        values: list[int] = []
        while len(values) < count:
            self.drawn += 1
            if ticket_number(self.drawn) not in self.reserved:
                values.append(self.drawn)
        return values

    def reserve(self, number: int, ticket_id: UUID) -> bool:
        held = self.reserved.setdefault(number, ticket_id)
        value = sequence_value_of(number)
        if held == ticket_id and value is not None and value <= self.drawn:
            del self.reserved[number]
            return False
        return held == ticket_id

    def close(self) -> None:
        pass
