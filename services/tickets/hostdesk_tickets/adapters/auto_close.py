"""Answered tickets left unanswered by their requester close by themselves (rules in ``domain/deadlines``).

- The deadlines are a projection of the event log kept in the tickets schema: ``auto_close_deadlines``
  (a row per ticket waiting for its requester) and ``auto_close_position`` (the log position applied last),
  written in one transaction. A restart resumes after that position: no event applied twice, none missed.
- Every interval, each replica tries to take a PostgreSQL advisory lock; the one that gets it makes a pass and
  lets it go: it catches the deadlines up with the log, then closes the tickets whose deadline has passed by
  its clock. Catching up first means it never closes a ticket on a deadline that the log has already moved.
  Passes never overlap, and no replica stands in for a dead one: the next pass is any replica's.
- Each close is a command whose id names the ticket and the answer it waited on: the ticket applies it once
  however often it is issued, and refuses it if it moved on. Committed or refused, the deadline goes (the
  log says what comes next). The relay publishes the ``TicketClosed`` like any other event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from eventsourcing.persistence import PersistenceError
from eventsourcing.utils import get_topic
from hostdesk_contracts.events import TicketEvent

from hostdesk_tickets.application import TicketsApplication
from hostdesk_tickets.domain.deadlines import (
    Deadline,
    DeadlineChange,
    Lifted,
    Postponed,
    auto_close_command,
    deadline_changes,
)
from hostdesk_tickets.domain.errors import TicketNotFound
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.mapping import to_public

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# The stored events that can start, move or end a ticket's wait for its requester.
TOPICS = [
    get_topic(event_class)
    for event_class in (
        Ticket.StatusChanged,
        Ticket.ReplyPosted,  # type: ignore[attr-defined]
        Ticket.Closed,
        Ticket.Reopened,  # type: ignore[attr-defined]
        Ticket.Merged,  # type: ignore[attr-defined]
    )
]
TRACKING_NAME = "deadlines"


class DeadlineTable:
    """The deadlines and the position of the log they reflect, in the tickets schema."""

    def __init__(self, schema: str) -> None:
        self.deadlines = f'"{schema}".auto_close_deadlines'
        self.tracking = f'"{schema}".auto_close_position'

    async def create(self, connection: asyncpg.Connection) -> None:
        async with connection.transaction():
            # The lock the event store takes for its own schema work: replicas starting at once wait in turn.
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext('hostdesk-tickets-schema'))")
            await connection.execute(
                f"""CREATE TABLE IF NOT EXISTS {self.deadlines} (
                        ticket_id uuid PRIMARY KEY,
                        tenant text NOT NULL,
                        answered_version integer NOT NULL,
                        due_at timestamptz NOT NULL)"""
            )
            await connection.execute(
                f"CREATE INDEX IF NOT EXISTS auto_close_deadlines_due_at ON {self.deadlines} (due_at)"
            )
            await connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self.tracking} (name text PRIMARY KEY, position bigint NOT NULL)"
            )
            await connection.execute(
                f"INSERT INTO {self.tracking} (name, position) VALUES ($1, 0) ON CONFLICT DO NOTHING", TRACKING_NAME
            )

    async def locked_position(self, connection: asyncpg.Connection) -> int:
        """The position applied last, locked until the transaction ends: two followers never apply one batch."""
        position: int = await connection.fetchval(
            f"SELECT position FROM {self.tracking} WHERE name = $1 FOR UPDATE", TRACKING_NAME
        )
        return position

    async def apply(self, connection: asyncpg.Connection, changes: Sequence[DeadlineChange], *, position: int) -> None:
        """Write ``changes`` and the position they bring the table to (in the caller's transaction)."""
        deadlines = [c for c in changes if isinstance(c, Deadline)]
        postponed = [c for c in changes if isinstance(c, Postponed)]
        lifted = [c for c in changes if isinstance(c, Lifted)]
        if deadlines:
            await connection.executemany(
                f"""INSERT INTO {self.deadlines} (ticket_id, tenant, answered_version, due_at)
                    VALUES ($1, $2, $3, $4)
                    ON CONFLICT (ticket_id) DO UPDATE SET tenant = excluded.tenant,
                        answered_version = excluded.answered_version, due_at = excluded.due_at""",
                [(d.ticket_id, d.tenant, d.answered_version, d.due_at) for d in deadlines],
            )
        if postponed:
            await connection.executemany(
                f"UPDATE {self.deadlines} SET due_at = greatest(due_at, $2) WHERE ticket_id = $1",
                [(p.ticket_id, p.due_at) for p in postponed],
            )
        if lifted:
            await connection.executemany(
                f"DELETE FROM {self.deadlines} WHERE ticket_id = $1", [(gone.ticket_id,) for gone in lifted]
            )
        await connection.execute(f"UPDATE {self.tracking} SET position = $2 WHERE name = $1", TRACKING_NAME, position)

    async def due(self, connection: asyncpg.Connection, *, now: datetime, limit: int) -> list[Deadline]:
        rows = await connection.fetch(
            f"""SELECT ticket_id, tenant, answered_version, due_at FROM {self.deadlines}
                WHERE due_at <= $1 ORDER BY due_at LIMIT $2""",
            now,
            limit,
        )
        return [Deadline(**dict(row)) for row in rows]

    async def remove(self, connection: asyncpg.Connection, deadline: Deadline) -> None:
        """Remove ``deadline``, unless the log has replaced it meanwhile."""
        await connection.execute(
            f"DELETE FROM {self.deadlines} WHERE ticket_id = $1 AND answered_version = $2 AND due_at = $3",
            deadline.ticket_id,
            deadline.answered_version,
            deadline.due_at,
        )


@dataclass(frozen=True, slots=True)
class Pass:
    """What one pass of the auto-closer did."""

    applied: int  # ticket events applied to the deadlines
    closed: int  # tickets closed
    refused: int  # deadlines the ticket had moved past


class AutoCloser:
    def __init__(
        self,
        *,
        app: TicketsApplication,
        database_url: str,
        schema: str,
        lock_key: int,
        idle: timedelta,
        interval_seconds: float,
        clock: Clock,
        batch: int = 500,
    ) -> None:
        self.app = app
        self.database_url = database_url
        self.table = DeadlineTable(schema)
        self.lock_key = lock_key
        self.idle = idle
        self.interval_seconds = interval_seconds
        self.clock = clock
        self.batch = batch
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        while not self.stopping.is_set():
            try:
                await self._serve()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, PersistenceError) as error:
                log.warning("auto-close paused: %s", error)
            await self._pause(1.0)

    async def _serve(self) -> None:
        connection = await asyncpg.connect(self.database_url, timeout=5)
        try:
            await self.table.create(connection)
            while not self.stopping.is_set():
                done = await self.work_if_elected(connection)
                if done is not None and (done.closed or done.refused):
                    log.info("auto-close: %d tickets closed, %d had moved on", done.closed, done.refused)
                await self._pause(self.interval_seconds)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=2)

    async def work_if_elected(self, connection: asyncpg.Connection) -> Pass | None:
        """One pass, unless another replica is making one (None then): each pass holds the advisory lock, on
        ``connection``, from start to end; it goes with the connection if this replica dies."""
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
            return None
        try:
            return await self.work(connection)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", self.lock_key)

    async def work(self, connection: asyncpg.Connection) -> Pass:
        """One pass: catch the deadlines up with the log, then close the tickets whose deadline has passed."""
        applied = await self.follow(connection)
        closed, refused = await self.sweep(connection)
        return Pass(applied=applied, closed=closed, refused=refused)

    async def follow(self, connection: asyncpg.Connection) -> int:
        """Apply the log's new ticket events to the deadlines, up to its end; the number applied."""
        applied = 0
        while not self.stopping.is_set():
            async with connection.transaction():
                position = await self.table.locked_position(connection)
                last, events = await asyncio.to_thread(self._events_after, position)
                if not events:
                    return applied
                await self.table.apply(connection, deadline_changes(events, idle=self.idle), position=last)
            applied += len(events)
        return applied

    def _events_after(self, position: int) -> tuple[int, list[TicketEvent]]:
        """The next batch of ticket events after ``position`` that concern deadlines, and the last one's position."""
        notifications = self.app.recorder.select_notifications(
            start=position, limit=self.batch, topics=TOPICS, inclusive_of_start=False
        )
        events = [to_public(self.app.mapper.to_domain_event(notification)) for notification in notifications]
        return (notifications[-1].id if notifications else position), events

    async def sweep(self, connection: asyncpg.Connection) -> tuple[int, int]:
        """Close every ticket whose deadline has passed: how many closed, and how many had moved on."""
        closed = refused = 0
        while not self.stopping.is_set():
            now = self.clock()
            due = await self.table.due(connection, now=now, limit=self.batch)
            for deadline in due:
                if await self._close(deadline, now=now):
                    closed += 1
                else:
                    refused += 1
                await self.table.remove(connection, deadline)
            if len(due) < self.batch:
                break
        return closed, refused

    async def _close(self, deadline: Deadline, *, now: datetime) -> bool:
        command = auto_close_command(deadline, idle=self.idle, now=now)
        try:
            outcome = await asyncio.to_thread(self.app.handle, command)
        except TicketNotFound:
            log.warning("ticket %s had a deadline but is not in the log", deadline.ticket_id)
            return False
        if outcome.result == "refused":
            log.info("ticket %s not closed: %s", deadline.ticket_id, outcome.detail)
            return False
        log.info("ticket %s closed for want of a reply (version %s)", deadline.ticket_id, outcome.version)
        return True

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
