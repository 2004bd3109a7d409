"""Answered tickets left unanswered by their requester close by themselves (rules in ``domain/deadlines``).

- The deadlines are a projection of the event log (``deadline_table``), caught up from the position saved with
  them: after a restart, no event is applied twice and none is missed.
- Every interval, each replica tries to take a PostgreSQL advisory lock; the one that gets it makes a pass and
  lets it go: it catches the deadlines up with the log, then closes the tickets whose deadline has passed by
  its clock. Catching up first means it never closes a ticket on a deadline that the log has already moved.
  Passes never overlap, and no replica stands in for a dead one: the next pass is any replica's.
- The close is a command whose id names the ticket and the answer it waited on: the ticket applies it once
  however often it is issued, and refuses it if it moved on, answered again included (it knows the version of
  the answer its requester has not replied to). A closed ticket's deadline goes at once; a refused one stays
  until the next catch-up, where what the ticket recorded since (a reply, another status, a later answer) lifts
  or renews it. The relay publishes the ``TicketClosed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from uuid import UUID

import asyncpg
from eventsourcing.persistence import PersistenceError
from eventsourcing.utils import get_topic
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.clock import Clock, pause

from hostdesk_tickets.adapters.deadline_table import DeadlineTable
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.domain.deadlines import Deadline, auto_close_command, deadline_changes
from hostdesk_tickets.domain.errors import TicketNotFound
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.service_layer.lookups import facts_of_the_product

log = logging.getLogger(__name__)


# The stored events that can start, move or end a ticket's wait for its requester.
TOPICS = [
    get_topic(event_class)
    for event_class in (
        Ticket.StatusChanged,
        Ticket.ReplyPosted,
        Ticket.Closed,
        Ticket.Reopened,  # type: ignore[attr-defined]
        Ticket.Merged,  # type: ignore[attr-defined]
    )
]


class Verdict(Enum):
    """What became of a deadline found passed."""

    CLOSED = "closed"
    MOVED_ON = "moved on"  # the ticket no longer waited at that answer: the next catch-up settles its deadline
    NOT_IN_LOG = "not in the log"  # nothing will ever settle it: the deadline goes


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
            await pause(self.stopping, 1.0)

    async def _serve(self) -> None:
        connection = await asyncpg.connect(self.database_url, timeout=5)
        try:
            await self.table.create(connection)
            while not self.stopping.is_set():
                done = await self.work_if_elected(connection)
                if done is not None and (done.closed or done.refused):
                    log.info("auto-close: %d tickets closed, %d had moved on", done.closed, done.refused)
                await pause(self.stopping, self.interval_seconds)
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
        verdicts = await self.sweep(connection)
        return Pass(
            applied=applied,
            closed=verdicts[Verdict.CLOSED],
            refused=verdicts[Verdict.MOVED_ON] + verdicts[Verdict.NOT_IN_LOG],
        )

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

    async def sweep(self, connection: asyncpg.Connection) -> Counter[Verdict]:
        """Close every ticket whose deadline has passed; what became of each deadline."""
        verdicts: Counter[Verdict] = Counter()
        now = self.clock()
        after: tuple[datetime, UUID] | None = None
        while not self.stopping.is_set():
            due = await self.table.due(connection, now=now, after=after, limit=self.batch)
            for deadline in due:
                verdict = await self._close(deadline, now=now)
                if verdict is not Verdict.MOVED_ON:
                    await self.table.remove(connection, deadline)
                verdicts[verdict] += 1
            if len(due) < self.batch:
                break
            after = (due[-1].due_at, due[-1].ticket_id)
        return verdicts

    async def _close(self, deadline: Deadline, *, now: datetime) -> Verdict:
        command = auto_close_command(deadline, idle=self.idle, now=now)
        try:
            outcome = await asyncio.to_thread(self.app.handle, command, facts_of_the_product(command))
        except TicketNotFound:
            log.warning("ticket %s had a deadline but is not in the log", deadline.ticket_id)
            return Verdict.NOT_IN_LOG
        if outcome.result == "committed":
            log.info("ticket %s closed for want of a reply (version %s)", deadline.ticket_id, outcome.version)
            return Verdict.CLOSED
        log.info("ticket %s not closed: %s", deadline.ticket_id, outcome.detail)
        return Verdict.MOVED_ON
