"""Answered tickets close by themselves on real PostgreSQL: on time by the injected clock, once, across restarts."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest
from hostdesk_contracts.base import Role, Side, Status, Visibility
from hostdesk_contracts.events import ReplyPosted, StatusChanged, TicketClosed, TicketEvent
from hostdesk_contracts.runtime.nats import connect
from hostdesk_contracts.subjects import Subjects
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.entrypoints.auto_close import AutoCloser, Pass, Verdict
from hostdesk_tickets.runtime import build_application
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings
from nats.js.errors import NotFoundError

from tests.integration.tickets.test_history import tickets_service
from tests.support import eventually
from tests.unit.tickets.builders import CUSTOMER, STAFF, handle, open_command, reply

IDLE = timedelta(days=7)
TICK = timedelta(microseconds=1)


class Clock:
    """The auto-closer's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def closer_for(app: TicketsApplication, settings: Settings, clock: Clock, *, batch: int = 500) -> AutoCloser:
    return AutoCloser(
        app=app,
        database_url=settings.database_url,
        schema=settings.db_schema,
        lock_key=settings.auto_close_lock_key,
        idle=IDLE,
        interval_seconds=0.05,
        clock=clock,
        batch=batch,
    )


@dataclass
class Desk:
    """A tickets application on the test's schema, an auto-closer on it, and the clock the test moves."""

    app: TicketsApplication
    settings: Settings
    connection: asyncpg.Connection
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.closer = closer_for(self.app, self.settings, self.clock)

    async def passes_at(self, moment: datetime) -> Pass:
        """One pass of the auto-closer with its clock at ``moment``."""
        self.clock.now = moment
        return await self.closer.work(self.connection)

    async def answered_ticket(self) -> UUID:
        outcome = await asyncio.to_thread(handle, self.app, open_command())
        assert outcome.result == "committed"
        await self.post(outcome.ticket_id, by_staff=True)
        return outcome.ticket_id

    async def post(self, ticket_id: UUID, *, by_staff: bool, internal: bool = False) -> None:
        ticket = await asyncio.to_thread(self.app.get_ticket, ticket_id)
        visibility = Visibility.INTERNAL if internal else Visibility.PUBLIC
        command = reply(ticket, STAFF if by_staff else CUSTOMER, visibility=visibility)
        outcome = await asyncio.to_thread(handle, self.app, command)
        assert outcome.result == "committed", outcome.detail

    async def events(self, ticket_id: UUID) -> list[TicketEvent]:
        stored = await asyncio.to_thread(list, self.app.repository.event_store.get(ticket_id))
        return [to_public(event) for event in stored]

    async def due(self, ticket_id: UUID) -> datetime:
        """The idle time after the ticket's last public answer."""
        answers = [
            event
            for event in await self.events(ticket_id)
            if isinstance(event, StatusChanged | ReplyPosted) and event.side is Side.HANDLER
        ]
        return answers[-1].occurred_at + IDLE

    async def closes(self, ticket_id: UUID) -> list[TicketClosed]:
        return [event for event in await self.events(ticket_id) if isinstance(event, TicketClosed)]

    async def status(self, ticket_id: UUID) -> Status:
        return (await asyncio.to_thread(self.app.get_ticket, ticket_id)).status

    async def deadlines(self) -> dict[UUID, int]:
        rows = await self.connection.fetch(
            f'SELECT ticket_id, answered_version FROM "{self.settings.db_schema}".auto_close_deadlines'
        )
        return {row["ticket_id"]: row["answered_version"] for row in rows}


@pytest.fixture
async def desk(tickets_app: TicketsApplication, tickets_settings: Settings) -> AsyncIterator[Desk]:
    connection = await asyncpg.connect(tickets_settings.database_url)
    desk = Desk(tickets_app, tickets_settings, connection)
    await desk.closer.table.create(connection)
    yield desk
    await connection.close()


def later() -> datetime:
    """Past the deadline of every ticket answered so far."""
    return datetime.now(UTC) + IDLE + timedelta(minutes=1)


# -- the behaviours -------------------------------------------------------------------------------------------


async def test_an_answered_ticket_closes_by_itself_once_its_idle_time_has_passed_and_not_before(desk: Desk) -> None:
    ticket_id = await desk.answered_ticket()
    due = await desk.due(ticket_id)

    early = await desk.passes_at(due - TICK)
    status_then = await desk.status(ticket_id)
    on_time = await desk.passes_at(due)

    assert (early.applied, early.closed, status_then) == (2, 0, Status.ANSWERED)
    assert (on_time.applied, on_time.closed) == (0, 1)
    (closed,) = await desk.closes(ticket_id)
    assert closed.automatic
    assert closed.reason == "No reply from the requester for 7 days"
    assert (closed.actor.role, closed.actor.account_id, closed.from_status) == (Role.SYSTEM, "system", Status.ANSWERED)
    assert closed.command_id == f"auto-close:{ticket_id}:3"
    ticket = await asyncio.to_thread(desk.app.get_ticket, ticket_id)
    assert (ticket.status, ticket.archived) == (Status.CLOSED, True)
    assert await desk.deadlines() == {}


async def test_a_requester_reply_before_the_deadline_keeps_the_ticket_open(desk: Desk) -> None:
    ticket_id = await desk.answered_ticket()
    await desk.passes_at(datetime.now(UTC))
    await desk.post(ticket_id, by_staff=False)

    done = await desk.passes_at(later() + IDLE)

    assert done.closed == 0
    assert await desk.status(ticket_id) is Status.CUSTOMER_REPLY
    assert await desk.deadlines() == {}


async def test_another_public_answer_moves_the_deadline_and_an_internal_note_does_not(desk: Desk) -> None:
    ticket_id = await desk.answered_ticket()
    await desk.passes_at(datetime.now(UTC))
    await desk.post(ticket_id, by_staff=True)
    second_due = await desk.due(ticket_id)
    await desk.post(ticket_id, by_staff=True, internal=True)

    before = await desk.passes_at(second_due - TICK)  # past the first answer's deadline
    after = await desk.passes_at(second_due)

    assert (before.closed, after.closed) == (0, 1)
    (closed,) = await desk.closes(ticket_id)
    assert closed.command_id == f"auto-close:{ticket_id}:4"  # the later answer's: the internal note is none


async def test_an_answer_recorded_after_the_catch_up_still_keeps_the_ticket_open(desk: Desk) -> None:
    ticket_id = await desk.answered_ticket()
    first_due = await desk.due(ticket_id)
    await desk.passes_at(first_due - TICK)
    await desk.post(ticket_id, by_staff=True)  # not yet in the deadlines
    second_due = await desk.due(ticket_id)

    desk.clock.now = first_due
    swept = await desk.closer.sweep(desk.connection)  # a sweep that missed the answer
    left = await desk.deadlines()
    caught_up = await desk.passes_at(first_due)
    after_catch_up = await desk.deadlines()
    closing = await desk.passes_at(second_due)

    assert (swept, left) == (Counter({Verdict.MOVED_ON: 1}), {ticket_id: 3})  # refused: answered again since
    assert (caught_up.applied, caught_up.closed, after_catch_up) == (1, 0, {ticket_id: 4})
    assert closing.closed == 1
    assert len(await desk.closes(ticket_id)) == 1


async def test_answering_again_after_a_requester_reply_starts_a_new_wait_at_the_new_version(desk: Desk) -> None:
    ticket_id = await desk.answered_ticket()
    await desk.passes_at(datetime.now(UTC))
    await desk.post(ticket_id, by_staff=False)
    await desk.post(ticket_id, by_staff=True)
    due = await desk.due(ticket_id)

    await desk.passes_at(due - TICK)
    waiting = await desk.deadlines()
    await desk.passes_at(due)

    assert waiting == {ticket_id: 7}
    (closed,) = await desk.closes(ticket_id)
    assert closed.command_id == f"auto-close:{ticket_id}:7"


async def test_two_auto_closers_passing_at_once_close_each_ticket_exactly_once(desk: Desk) -> None:
    ticket_ids = [await desk.answered_ticket() for _ in range(12)]
    other_app = await asyncio.to_thread(build_application, desk.settings)
    other_connection = await asyncpg.connect(desk.settings.database_url)
    first = closer_for(desk.app, desk.settings, desk.clock, batch=5)
    second = closer_for(other_app, desk.settings, desk.clock, batch=5)
    desk.clock.now = later()
    try:
        # Both pass without the lock, as two replicas would if the lock failed them: the commands' ids decide.
        passes = await asyncio.gather(first.work(desk.connection), second.work(other_connection))
    finally:
        await other_connection.close()
        await asyncio.to_thread(other_app.close)

    assert sum(done.applied for done in passes) == 24  # each event applied to the deadlines once
    for ticket_id in ticket_ids:
        (closed,) = await desk.closes(ticket_id)
        assert closed.automatic
    assert await desk.deadlines() == {}


async def test_running_auto_closers_take_turns_and_close_each_ticket_once(desk: Desk) -> None:
    ticket_ids = [await desk.answered_ticket() for _ in range(6)]
    closers = [closer_for(desk.app, desk.settings, desk.clock, batch=2) for _ in range(2)]
    desk.clock.now = later()

    async def all_closed() -> bool:
        return all([await desk.closes(ticket_id) for ticket_id in ticket_ids])

    tasks = [asyncio.create_task(closer.run()) for closer in closers]
    try:
        await eventually(all_closed)
    finally:
        for closer in closers:
            closer.stop()
        await asyncio.gather(*tasks)

    assert [len(await desk.closes(ticket_id)) for ticket_id in ticket_ids] == [1] * 6


async def test_a_pass_waits_its_turn_while_another_replica_holds_the_lock(desk: Desk) -> None:
    key = desk.settings.auto_close_lock_key
    holder = await asyncpg.connect(desk.settings.database_url)
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", key)
        assert await desk.closer.work_if_elected(desk.connection) is None
        await holder.execute("SELECT pg_advisory_unlock($1)", key)

        assert await desk.closer.work_if_elected(desk.connection) is not None
    finally:
        await holder.close()


async def test_after_a_restart_the_deadlines_resume_from_their_saved_position(desk: Desk) -> None:
    first_id = await desk.answered_ticket()
    assert (await desk.passes_at(datetime.now(UTC))).applied == 2
    second_id = await desk.answered_ticket()
    third_id = await desk.answered_ticket()
    await desk.post(third_id, by_staff=False)

    restarted_app = await asyncio.to_thread(build_application, desk.settings)
    restarted_connection = await asyncpg.connect(desk.settings.database_url)
    try:
        restarted = Desk(restarted_app, desk.settings, restarted_connection)
        done = await restarted.passes_at(datetime.now(UTC))
        waiting = await restarted.deadlines()
        position = await restarted_connection.fetchval(
            f'SELECT position FROM "{desk.settings.db_schema}".auto_close_position'
        )
        log_end = await asyncio.to_thread(restarted_app.recorder.max_notification_id)
    finally:
        await restarted_connection.close()
        await asyncio.to_thread(restarted_app.close)

    assert done.applied == 6  # three answers and a requester reply, two events each; none from before again
    assert waiting == {first_id: 3, second_id: 3}
    assert position == log_end


async def test_the_service_closes_an_idle_answered_ticket_and_publishes_the_close(
    desk: Desk, subjects: Subjects
) -> None:
    ticket_id = await desk.answered_ticket()
    desk.clock.now = later()
    settings = desk.settings.model_copy(update={"auto_close_interval_seconds": 0.05})
    nc = await connect(settings.nats_url, name="auto-close-test")
    js = nc.jetstream()
    closed_subject = subjects.event(CUSTOMER.tenant, TicketClosed)

    async def published() -> bool:
        try:
            await js.get_last_msg(subjects.events_stream, closed_subject)
        except NotFoundError:
            return False
        return True

    try:
        async with tickets_service(settings, clock=desk.clock):
            await eventually(published)
        message = await js.get_last_msg(subjects.events_stream, closed_subject)
    finally:
        await nc.close()

    assert message.data is not None
    event = TicketClosed.model_validate_json(message.data)
    assert (event.ticket_id, event.automatic, event.version) == (ticket_id, True, 4)
    assert event.reason == "No reply from the requester for 7 days"
