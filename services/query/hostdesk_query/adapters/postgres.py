"""The read model in PostgreSQL.

A batch of events is applied in one transaction: advisory locks on its tickets (taken in one order, so two
replicas never deadlock, and held on tickets that do not exist yet, so two replicas never both create one),
one read of those tickets, the version gate and the projection in Python (``domain.projection.plan_batch``),
then pipelined writes and one notification per ticket for the readers waiting on a version. When the database
refuses some event's data, the batch is applied again one event per transaction so that only that event is
rejected.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from uuid import UUID

import asyncpg
from hostdesk_contracts.access import Reach
from hostdesk_contracts.base import Side
from hostdesk_contracts.runtime import dead_letters as letters

from hostdesk_query.adapters.ports import DeadLetter, KeptLetter, Outcome, Rejected, StoreUnavailable
from hostdesk_query.adapters.rows import (
    ENTRY_COLUMNS,
    ENTRY_FIELDS,
    TICKET_COLUMNS,
    TICKET_FIELDS,
    entry_of,
    entry_rows_of,
    files_of,
    rows_of,
    ticket_of,
)
from hostdesk_query.adapters.search import search_tickets
from hostdesk_query.adapters.ticket_counts import count_tickets
from hostdesk_query.adapters.ticket_sql import list_query
from hostdesk_query.domain.counting import TicketCounts
from hostdesk_query.domain.cursor import PageCursor
from hostdesk_query.domain.listing import ListOrder, TicketFilter
from hostdesk_query.domain.model import PostedFile, TicketRecord, TicketView
from hostdesk_query.domain.paging import FIRST_PAGE, TimelineWindow
from hostdesk_query.domain.projection import Change, plan_batch
from hostdesk_query.domain.search import Search, SearchResult
from hostdesk_query.domain.visibility import side_on

log = logging.getLogger(__name__)

# Errors that say the database (or the way to it) is down, not that the data is wrong.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.TransactionRollbackError,  # deadlock or serialization failure: the same batch may pass next time
    OSError,
    asyncio.TimeoutError,
)
# Errors that say this data can never be stored.
REFUSED_ERRORS: tuple[type[BaseException], ...] = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)

_LOCK = "SELECT pg_advisory_xact_lock(key) FROM unnest($1::bigint[]) AS key"
_SELECT_FOR_APPLY = f"SELECT {TICKET_COLUMNS} FROM tickets WHERE ticket_id = ANY($1::uuid[])"
# One ticket, whose side for the reader the rule itself then decides (``domain.visibility.side_on``).
_SELECT_TICKET = f"SELECT {TICKET_COLUMNS} FROM tickets WHERE ticket_id = $1 AND tenant = $2"
# The files of the ticket's posts that hold one of this id (``jsonb @>``: a list holding an object with that id),
# among the entries the reader's side sees. The ticket's own entries only: the key's first column bounds the scan.
_SELECT_FILES = "SELECT attachments FROM timeline WHERE ticket_id = $1 AND attachments @> $2::jsonb{shown} LIMIT 1"


def _placeholders(count: int) -> str:
    return ", ".join(f"${i}" for i in range(1, count + 1))


_INSERT_TICKET = (
    f"INSERT INTO tickets ({TICKET_COLUMNS}) VALUES ({_placeholders(len(TICKET_FIELDS))})"
    " ON CONFLICT (ticket_id) DO NOTHING"
)
# Every column from its argument (ticket_id, the first, names the row), only when the version moves forward.
_UPDATE_TICKET = (
    "UPDATE tickets SET "
    + ", ".join(f"{name} = ${i}" for i, name in enumerate(TICKET_FIELDS, start=1) if name != "ticket_id")
    + f" WHERE ticket_id = $1 AND version < ${TICKET_FIELDS.index('version') + 1}"
)
_INSERT_ENTRY = (
    f"INSERT INTO timeline ({ENTRY_COLUMNS}) VALUES ({_placeholders(len(ENTRY_FIELDS))})"
    " ON CONFLICT (ticket_id, version, part) DO NOTHING"
)
_NOTIFY = "SELECT pg_notify($1, notice) FROM unnest($2::text[]) AS notice"
# A message set aside is kept once: delivered again before its acknowledgement landed (a slow moment), it finds
# its letter there already.
_INSERT_DEAD_LETTER = (
    "INSERT INTO dead_letters (subject, data, headers, error, stream_seq, deliveries)"
    " SELECT $1, $2, $3::jsonb, $4, $5::bigint, $6 WHERE $5::bigint IS NULL"
    " OR NOT EXISTS (SELECT 1 FROM dead_letters WHERE stream_seq = $5::bigint AND subject = $1)"
)


_LETTER_COLUMNS = "id, subject, data, headers, error, stream_seq, deliveries, received_at, replay_requested_at"


def lock_key(ticket_id: UUID) -> int:
    return int.from_bytes(ticket_id.bytes[:8], "big", signed=True)


async def _seen_by(
    connection: asyncpg.pool.PoolConnectionProxy[asyncpg.Record], reach: Reach, ticket_id: UUID
) -> tuple[TicketRecord, Side] | None:
    """The ticket and the side ``reach`` sees it from, ``None`` when it may not see it (or there is none)."""
    row = await connection.fetchrow(_SELECT_TICKET, ticket_id, reach.tenant)
    ticket = None if row is None else ticket_of(row)
    side = None if ticket is None else side_on(reach, ticket)
    if ticket is None or side is None:
        return None
    return ticket, side


def _shown_to(side: Side) -> str:
    """``domain.visibility.shows`` in SQL, as a condition to add to a WHERE clause on the timeline."""
    return "" if side is Side.HANDLER else " AND visibility IS DISTINCT FROM 'internal'"


def _timeline_page(
    ticket_id: UUID, side: Side, window: TimelineWindow, *, newest_first: bool
) -> tuple[str, list[object]]:
    """The query of a page of a timeline and its arguments: ``domain.paging``'s rule in SQL. Positions are
    numbered over the entries ``side`` may see (``domain.visibility.shows``), so that they count nothing else;
    one row more than the page says whether more follow."""
    shown = _shown_to(side)
    order = "DESC" if newest_first else "ASC"
    args: list[object] = [ticket_id]
    past = ""
    if window.after is not None:
        args += [window.after.occurred_at, window.after.position]
        past = f" WHERE (occurred_at, position) {'<' if newest_first else '>'} ($2, $3)"
    args.append(window.limit + 1)
    sql = (
        f"SELECT * FROM (SELECT {ENTRY_COLUMNS}, row_number() OVER (ORDER BY version, part) AS position"
        f" FROM timeline WHERE ticket_id = $1{shown}) AS shown{past}"
        f" ORDER BY occurred_at {order}, position {order} LIMIT ${len(args)}"
    )
    return sql, args


class PostgresReadModel:
    """The ``ProjectionStore`` and ``TicketReader`` on PostgreSQL; the pool's search_path is the schema."""

    def __init__(self, pool: asyncpg.Pool, *, notify_channel: str) -> None:
        self._pool = pool
        self._notify_channel = notify_channel

    async def apply(self, changes: Sequence[Change]) -> list[Outcome]:
        if not changes:
            return []
        try:
            try:
                return list(await self._apply_together(changes))
            except REFUSED_ERRORS as error:
                if len(changes) == 1:
                    return [Rejected(str(error))]
                log.warning(
                    "the database refused a batch of %d events (%s): applying them one by one", len(changes), error
                )
            return [await self._apply_alone(change) for change in changes]
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(str(error)) from error

    async def _apply_alone(self, change: Change) -> Outcome:
        try:
            (outcome,) = await self._apply_together([change])
        except REFUSED_ERRORS as error:
            return Rejected(str(error))
        return outcome

    async def _apply_together(self, changes: Sequence[Change]) -> Sequence[Outcome]:
        ticket_ids = sorted({change.ticket_id for change in changes})
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(_LOCK, sorted({lock_key(ticket_id) for ticket_id in ticket_ids}))
            rows = await connection.fetch(_SELECT_FOR_APPLY, ticket_ids)
            plan = plan_batch({row["ticket_id"]: ticket_of(row) for row in rows}, changes)
            if plan.created:
                await connection.executemany(_INSERT_TICKET, rows_of(plan.created))
            if plan.updated:
                await connection.executemany(_UPDATE_TICKET, rows_of(plan.updated))
            if plan.entries:
                await connection.executemany(_INSERT_ENTRY, entry_rows_of(plan.entries))
            notices = [f"{ticket.ticket_id}:{ticket.version}" for ticket in (*plan.created, *plan.updated)]
            if notices:
                await connection.execute(_NOTIFY, self._notify_channel, notices)
        return plan.decisions

    async def keep_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        args = [
            (
                letter.subject,
                letter.data,
                json.dumps(dict(letter.headers)),
                letter.error,
                letter.stream_seq,
                letter.deliveries,
            )
            for letter in letters
        ]
        try:
            async with self._pool.acquire() as connection:
                await connection.executemany(_INSERT_DEAD_LETTER, args)
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(str(error)) from error

    async def kept_letters(self, *, subject_prefix: str, limit: int) -> list[KeptLetter]:
        return await self._letters(letters.newest_letters(_LETTER_COLUMNS), subject_prefix, limit)

    async def kept_letter(self, letter_id: int, *, subject_prefix: str) -> KeptLetter | None:
        found = await self._letters(letters.one_letter(_LETTER_COLUMNS), letter_id, subject_prefix)
        return found[0] if found else None

    async def letters_to_replay(self, *, limit: int) -> list[KeptLetter]:
        return await self._letters(letters.letters_asked_for(_LETTER_COLUMNS), limit)

    async def settle_letter(self, letter_id: int) -> None:
        await self._write(letters.SETTLE_LETTER, letter_id)

    async def keep_letter(self, letter_id: int, *, error: str) -> None:
        await self._write(letters.KEEP_LETTER, letter_id, error)

    async def _letters(self, sql: str, *args: object) -> list[KeptLetter]:
        try:
            rows = await self._pool.fetch(sql, *args)
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(str(error)) from error
        return [
            KeptLetter(
                id=row["id"],
                letter=DeadLetter(
                    subject=row["subject"],
                    data=bytes(row["data"]),
                    headers=letters.headers_of(row["headers"]),
                    error=row["error"],
                    stream_seq=row["stream_seq"],
                    deliveries=row["deliveries"],
                ),
                received_at=row["received_at"],
                replay_requested=row["replay_requested_at"] is not None,
            )
            for row in rows
        ]

    async def _write(self, sql: str, *args: object) -> None:
        try:
            await self._pool.execute(sql, *args)
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(str(error)) from error

    async def list_tickets(
        self,
        reach: Reach,
        *,
        filters: TicketFilter,
        order: ListOrder = ListOrder.UPDATED,
        after: PageCursor | None = None,
        limit: int,
    ) -> list[TicketRecord]:
        if after is not None and after.order is not order:
            raise ValueError("a cursor of another order")
        query = list_query(reach, filters, order, after, limit)
        if query is None:
            return []
        sql, args = query
        try:
            rows = await self._pool.fetch(sql, *args)
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(str(error)) from error
        return [ticket_of(row) for row in rows]

    async def count_tickets(self, reach: Reach, *, filters: TicketFilter) -> TicketCounts:
        try:
            # One snapshot for the tallies and the tickets counted beside them.
            async with self._pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
                return await count_tickets(connection, reach, filters)
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(str(error)) from error

    async def search_tickets(self, reach: Reach, search: Search, *, filters: TicketFilter, limit: int) -> SearchResult:
        try:
            async with self._pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
                return await search_tickets(connection, reach, search, filters=filters, limit=limit)
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(str(error)) from error

    async def tickets_by_id(self, ticket_ids: Sequence[UUID]) -> dict[UUID, TicketRecord]:
        try:
            rows = await self._pool.fetch(_SELECT_FOR_APPLY, list(ticket_ids))
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(str(error)) from error
        return {row["ticket_id"]: ticket_of(row) for row in rows}

    async def ticket_view(
        self, reach: Reach, ticket_id: UUID, *, newest_first: bool, window: TimelineWindow = FIRST_PAGE
    ) -> TicketView | None:
        try:
            # One snapshot for both reads, so that the timeline ends at the ticket's version.
            async with self._pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
                seen = await _seen_by(connection, reach, ticket_id)
                if seen is None:
                    return None
                ticket, side = seen
                sql, args = _timeline_page(ticket_id, side, window, newest_first=newest_first)
                entries = await connection.fetch(sql, *args)
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(str(error)) from error
        page = entries[: window.limit]
        return TicketView(
            ticket=ticket,
            timeline=tuple(entry_of(entry) for entry in page),
            positions=tuple(entry["position"] for entry in page),
            more=len(entries) > window.limit,
        )

    async def posted_file(self, reach: Reach, ticket_id: UUID, attachment_id: str) -> PostedFile | None:
        try:
            async with self._pool.acquire() as connection, connection.transaction(isolation="repeatable_read"):
                seen = await _seen_by(connection, reach, ticket_id)
                if seen is None:
                    return None
                ticket, side = seen
                files = await connection.fetchval(
                    _SELECT_FILES.format(shown=_shown_to(side)), ticket_id, json.dumps([{"id": attachment_id}])
                )
        except UNAVAILABLE_ERRORS as error:
            raise StoreUnavailable(str(error)) from error
        held = next((file for file in files_of(files) if file.id == attachment_id), None)
        return None if held is None else PostedFile(tenant=ticket.tenant, ticket_id=ticket_id, attachment=held)

    async def answers(self) -> bool:
        try:
            await self._pool.fetchval("SELECT 1", timeout=1.0)
        except UNAVAILABLE_ERRORS:
            return False
        return True


async def create_pool(
    database_url: str, *, schema: str, min_size: int, max_size: int, statement_timeout: float
) -> asyncpg.Pool:
    """The read model's pool: its connections' search_path is ``schema``."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        command_timeout=statement_timeout,
        server_settings={
            "search_path": schema,
            "application_name": "hostdesk-query",
            # asyncpg prepares every statement, and PostgreSQL may settle on a generic plan chosen while a
            # table was nearly empty (a rebuild starts from nothing): a sequential scan that stays for good.
            # Planning each execution costs a fraction of what such a plan does.
            "plan_cache_mode": "force_custom_plan",
        },
    )
    assert pool is not None
    return pool
