"""The catch-up's side of PostgreSQL: the lock one replica holds while it catches up, its progress, and a chunk
of events written in one transaction with COPY.

Everything runs on one connection of the pool (its search_path is the read model's schema), held from start to
end: the session-level advisory lock lives on it, and so does a temporary table through which the tickets that
existed before a chunk are updated (``UPDATE ... FROM`` the rows COPY'd into it).

The chunks' transactions leave the tallies and the words to ``fill_tallies_and_words``, run once at the end
(``adapters.catching_up``).

``catchup_progress`` has one row per stream and consumer. Each chunk's transaction records in it the last message
read (``read_seq``) and where reading must start again (``resume_seq``: the first event still held, else
``read_seq + 1``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import asyncpg

from hostdesk_query.adapters.catching_up import SET_LOCAL
from hostdesk_query.adapters.rows import (
    ENTRY_FIELDS,
    TICKET_COLUMNS,
    TICKET_FIELDS,
    entry_rows_of,
    rows_of,
    ticket_of,
)
from hostdesk_query.adapters.schema import quoted, refill_tallies
from hostdesk_query.adapters.words_schema import refill_words
from hostdesk_query.domain.catchup_plan import ChunkPlan, Pending, plan_chunk, resume_seq
from hostdesk_query.domain.projection import BatchPlan

if TYPE_CHECKING:
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record] | asyncpg.Connection[asyncpg.Record]

M = TypeVar("M")  # the message each event carries, as read

PROGRESS_TABLE = "catchup_progress"
_UPDATES = "catchup_ticket_updates"

_PROGRESS_DDL = f"""
CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (
    stream         text NOT NULL,
    consumer       text NOT NULL,
    stream_created timestamptz,      -- the stream the row is about: one deleted and made again starts over
    target_seq     bigint NOT NULL,  -- the stream's last sequence when the catch-up (or its resumption) began
    read_seq       bigint NOT NULL,  -- every message up to here is applied, dead-lettered or held
    resume_seq     bigint NOT NULL,  -- where reading starts again: the first event held, or read_seq + 1
    messages       bigint NOT NULL,  -- messages read, over every attempt
    started_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    finished_at    timestamptz,      -- the durable consumer exists from then on
    PRIMARY KEY (stream, consumer)
)"""
_TEMPORARY_DDL = f"CREATE TEMPORARY TABLE IF NOT EXISTS {_UPDATES} (LIKE tickets) ON COMMIT DELETE ROWS"
_LOCK = "SELECT pg_try_advisory_lock(hashtext('hostdesk-query-catchup'), hashtext($1))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext('hostdesk-query-catchup'), hashtext($1))"
_SELECT_PROGRESS = f"""
SELECT stream_created, read_seq, resume_seq FROM {PROGRESS_TABLE} WHERE stream = $1 AND consumer = $2
"""
# A stream deleted and created again (another creation time) is another stream: its catch-up starts over.
_START = f"""
INSERT INTO {PROGRESS_TABLE} AS p (stream, consumer, stream_created, target_seq, read_seq, resume_seq, messages,
    started_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 0, clock_timestamp(), clock_timestamp())
ON CONFLICT (stream, consumer) DO UPDATE SET target_seq = $4, read_seq = $5, resume_seq = $6,
    updated_at = clock_timestamp(), finished_at = NULL, stream_created = $3,
    messages = CASE WHEN p.stream_created IS NOT DISTINCT FROM $3 THEN p.messages ELSE 0 END,
    started_at = CASE WHEN p.stream_created IS NOT DISTINCT FROM $3 THEN p.started_at ELSE clock_timestamp() END
"""
_ADVANCE = f"""
UPDATE {PROGRESS_TABLE} SET read_seq = $3, resume_seq = $4, messages = messages + $5, updated_at = clock_timestamp()
WHERE stream = $1 AND consumer = $2
"""
_FINISH = f"UPDATE {PROGRESS_TABLE} SET finished_at = clock_timestamp() WHERE stream = $1 AND consumer = $2"
_SELECT_TICKETS = f"SELECT {TICKET_COLUMNS} FROM tickets WHERE ticket_id = ANY($1::uuid[])"
_UPDATE_FROM = (
    "UPDATE tickets AS t SET ("
    + ", ".join(name for name in TICKET_FIELDS if name != "ticket_id")
    + ") = ("
    + ", ".join(f"u.{name}" for name in TICKET_FIELDS if name != "ticket_id")
    + f") FROM {_UPDATES} AS u WHERE t.ticket_id = u.ticket_id AND t.version < u.version"
)


@dataclass(frozen=True, slots=True)
class Start:
    """Where a catch-up starts."""

    resume_seq: int  # the first message to read
    read_seq: int  # every message up to here was read before: the dead letters among them are kept already


@dataclass(frozen=True, slots=True)
class Advance:
    """What a chunk moves the progress to."""

    read_seq: int  # the last message read
    resume_seq: int
    messages: int  # read in the chunk


class CatchUpStore:
    def __init__(self, connection: Connection, *, schema: str, stream: str, consumer: str) -> None:
        self._connection = connection
        self._key = (stream, consumer)
        self._lock_name = f"{schema}:{stream}:{consumer}"
        self._schema = quoted(schema)

    async def try_lock(self) -> bool:
        """Take the catch-up's lock unless another replica holds it. Held until ``unlock`` or the connection's end."""
        return bool(await self._connection.fetchval(_LOCK, self._lock_name))

    async def unlock(self) -> None:
        await self._connection.execute(f"DROP TABLE IF EXISTS pg_temp.{_UPDATES}")
        await self._connection.fetchval(_UNLOCK, self._lock_name)

    async def start(self, *, stream_created: datetime | None, target_seq: int) -> Start:
        """Where to read from: where an earlier catch-up of the same stream stopped, else its beginning."""
        await self._connection.execute(_PROGRESS_DDL)
        await self._connection.execute(_TEMPORARY_DDL)
        row = await self._connection.fetchrow(_SELECT_PROGRESS, *self._key)
        if row is not None and row["stream_created"] == stream_created:
            start = Start(resume_seq=row["resume_seq"], read_seq=row["read_seq"])
        else:
            start = Start(resume_seq=1, read_seq=0)
        await self._connection.execute(_START, *self._key, stream_created, target_seq, start.read_seq, start.resume_seq)
        return start

    async def write(self, events: Sequence[Pending[M]], *, read_seq: int, messages: int) -> ChunkPlan[M]:
        """Plan ``events`` against the tickets as they are now and write the plan, with the progress, in one
        transaction. Raises what asyncpg raises: nothing is written then."""
        async with self._connection.transaction():
            await self._connection.execute(SET_LOCAL)
            ticket_ids = list({pending.change.ticket_id for pending in events})
            rows = await self._connection.fetch(_SELECT_TICKETS, ticket_ids) if ticket_ids else []
            chunk = plan_chunk({row["ticket_id"]: ticket_of(row) for row in rows}, events)
            await self._write_plan(chunk.plan)
            resume = resume_seq(chunk.held, read_seq=read_seq)
            await self.advance(Advance(read_seq=read_seq, resume_seq=resume, messages=messages))
        return chunk

    async def _write_plan(self, plan: BatchPlan) -> None:
        copy = self._connection.copy_records_to_table
        if plan.created:
            await copy("tickets", records=rows_of(plan.created), columns=TICKET_FIELDS)
        if plan.updated:
            await copy(_UPDATES, records=rows_of(plan.updated), columns=TICKET_FIELDS)
            await self._connection.execute(_UPDATE_FROM)
        if plan.entries:
            await copy("timeline", records=entry_rows_of(plan.entries), columns=ENTRY_FIELDS)

    async def advance(self, advance: Advance) -> None:
        await self._connection.execute(_ADVANCE, *self._key, advance.read_seq, advance.resume_seq, advance.messages)

    async def fill_tallies_and_words(self) -> None:
        """What the triggers left to the end (``adapters.catching_up``): every ticket counted and its words
        found, in one transaction."""
        async with self._connection.transaction():
            await refill_tallies(self._connection, self._schema)
            await refill_words(self._connection, self._schema)

    async def finish(self) -> None:
        await self._connection.execute(_FINISH, *self._key)
