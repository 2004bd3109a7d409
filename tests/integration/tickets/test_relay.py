"""The relay publishes the log in order, once, resumes where it stopped, and one replica leads at a time."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.runtime.nats import connect, ensure_streams
from hostdesk_contracts.subjects import ES_POSITION, MSG_ID, Subjects
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.entrypoints.relay import Relay
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings
from nats.aio.client import Client
from nats.js import JetStreamContext

from tests.support import eventually
from tests.unit.tickets.builders import handle, open_command, reply

STAFF = Actor(account_id="agent-1", tenant="acme", role=Role.AGENT)


@pytest.fixture
async def js(nats_url: str, subjects: Subjects) -> AsyncIterator[JetStreamContext]:
    nc: Client = await connect(nats_url, name="relay-test")
    context = nc.jetstream()
    await ensure_streams(context, subjects)
    yield context
    await nc.close()


def store_tickets(app: TicketsApplication, count: int) -> int:
    """Open ``count`` tickets and answer each: three events a ticket. Returns the number of events."""
    for _ in range(count):
        outcome = handle(app, open_command())
        ticket = app.get_ticket(outcome.ticket_id)
        handle(app, reply(ticket, STAFF))
    return count * 3


async def stream_positions(js: JetStreamContext, subjects: Subjects) -> list[int]:
    info = await js.stream_info(subjects.events_stream)
    positions = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(subjects.events_stream, sequence)
        positions.append(int((message.headers or {})[ES_POSITION]))
    return positions


async def stream_length(js: JetStreamContext, subjects: Subjects) -> int:
    messages: int = (await js.stream_info(subjects.events_stream)).state.messages
    return messages


def relay_for(app: TicketsApplication, js: JetStreamContext, settings: Settings, *, batch: int = 500) -> Relay:
    return Relay(
        app=app,
        js=js,
        subjects=settings.subjects,
        database_url=settings.database_url,
        lock_key=settings.relay_lock_key,
        signer=settings.event_signer(),
        batch=batch,
        idle_poll_seconds=0.05,
    )


async def test_the_relay_publishes_every_event_once_in_log_order(
    tickets_app: TicketsApplication, tickets_settings: Settings, js: JetStreamContext, subjects: Subjects
) -> None:
    total = await asyncio.to_thread(store_tickets, tickets_app, 40)
    relay = relay_for(tickets_app, js, tickets_settings, batch=7)

    task = asyncio.create_task(relay.run())
    await eventually(lambda: _has(js, subjects, total))
    relay.stop()
    await task

    assert await stream_positions(js, subjects) == list(range(1, total + 1))


async def test_events_stored_while_the_relay_runs_follow_in_order(
    tickets_app: TicketsApplication, tickets_settings: Settings, js: JetStreamContext, subjects: Subjects
) -> None:
    relay = relay_for(tickets_app, js, tickets_settings)
    task = asyncio.create_task(relay.run())

    total = await asyncio.to_thread(store_tickets, tickets_app, 20)
    await eventually(lambda: _has(js, subjects, total))
    relay.stop()
    await task

    assert await stream_positions(js, subjects) == list(range(1, total + 1))


async def test_two_relays_publish_each_event_once_and_the_standby_takes_over(
    tickets_app: TicketsApplication, tickets_settings: Settings, js: JetStreamContext, subjects: Subjects
) -> None:
    first, second = relay_for(tickets_app, js, tickets_settings), relay_for(tickets_app, js, tickets_settings)
    tasks = {first: asyncio.create_task(first.run()), second: asyncio.create_task(second.run())}
    half = await asyncio.to_thread(store_tickets, tickets_app, 10)
    await eventually(lambda: _has(js, subjects, half))
    leader = first if first.is_leader else second
    standby = second if leader is first else first
    assert leader.is_leader
    assert not standby.is_leader

    leader.stop()
    await tasks[leader]
    total = half + await asyncio.to_thread(store_tickets, tickets_app, 10)
    await eventually(lambda: _has(js, subjects, total))

    assert standby.is_leader
    standby.stop()
    await tasks[standby]
    assert await stream_positions(js, subjects) == list(range(1, total + 1))


async def test_the_relay_resumes_exactly_where_it_stopped_after_kill_9(
    tickets_app: TicketsApplication, tickets_settings: Settings, js: JetStreamContext, subjects: Subjects
) -> None:
    total = await asyncio.to_thread(store_tickets, tickets_app, 300)
    environment = {
        **os.environ,
        "DATABASE_URL": tickets_settings.database_url,
        "NATS_URL": tickets_settings.nats_url,
        "HOSTDESK_JWT_SECRET": tickets_settings.jwt_secret.get_secret_value(),
        "HOSTDESK_SUBJECT_ROOT": subjects.root,
        "TICKETS_NATS_USER": tickets_settings.nats_user,
        "TICKETS_NATS_PASSWORD": tickets_settings.nats_password.get_secret_value(),
        "TICKETS_DB_SCHEMA": tickets_settings.db_schema,
        "TICKETS_RELAY_BATCH": "5",
        "TICKETS_PORT": "0",
    }

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "hostdesk_tickets"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    service = start()
    try:
        await eventually(lambda: _has(js, subjects, 30))
        service.send_signal(signal.SIGKILL)
        service.wait(10)
        published_before_restart = await stream_length(js, subjects)
        assert published_before_restart < total, "the relay finished before the kill; raise the ticket count"

        service = start()
        await eventually(lambda: _has(js, subjects, total), within=60)
    finally:
        service.kill()
        service.wait(10)

    assert await stream_positions(js, subjects) == list(range(1, total + 1))
    message_ids = [
        (await js.get_msg(subjects.events_stream, seq)).headers[MSG_ID]  # type: ignore[index]
        for seq in range(1, total + 1)
    ]
    assert len(set(message_ids)) == total


async def _has(js: JetStreamContext, subjects: Subjects, count: int) -> bool:
    return await stream_length(js, subjects) >= count


async def signed_positions(js: JetStreamContext, subjects: Subjects, settings: Settings) -> list[int]:
    """The log positions of the stream's messages the relay signed, in stream order."""
    signer, info = settings.event_signer(), await js.stream_info(subjects.events_stream)
    positions = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(subjects.events_stream, sequence)
        if signer.verify(message.subject or "", message.headers, message.data or b""):
            positions.append(int((message.headers or {})[ES_POSITION]))
    return positions


async def publish_foreign(js: JetStreamContext, subjects: Subjects, *, position: str) -> None:
    """What a client with publish rights it should not have (a leaked credential, a server configured wrongly)
    could put on the events stream: a message claiming a far log position."""
    await js.publish(
        f"{subjects.root}.events.acme.reply_posted.v1",
        b'{"type": "ticket.reply_posted.v1"}',
        headers={ES_POSITION: position, MSG_ID: f"foreign-{position}"},
    )


async def test_a_foreign_message_claiming_a_far_log_position_does_not_move_where_the_relay_resumes(
    tickets_app: TicketsApplication, tickets_settings: Settings, js: JetStreamContext, subjects: Subjects
) -> None:
    before = await asyncio.to_thread(store_tickets, tickets_app, 5)
    relay = relay_for(tickets_app, js, tickets_settings)
    task = asyncio.create_task(relay.run())
    await eventually(lambda: _has(js, subjects, before))
    relay.stop()
    await task
    await publish_foreign(js, subjects, position="999999999")
    after = await asyncio.to_thread(store_tickets, tickets_app, 5)

    relay = relay_for(tickets_app, js, tickets_settings)
    task = asyncio.create_task(relay.run())
    await eventually(lambda: _has(js, subjects, before + 1 + after), what="the events stored after the foreign message")
    relay.stop()
    await task

    assert await signed_positions(js, subjects, tickets_settings) == list(range(1, before + after + 1))
    assert await stream_length(js, subjects) == before + 1 + after


async def test_a_foreign_message_while_the_relay_leads_is_passed_over_and_the_relay_goes_on(
    tickets_app: TicketsApplication, tickets_settings: Settings, js: JetStreamContext, subjects: Subjects
) -> None:
    relay = relay_for(tickets_app, js, tickets_settings)
    task = asyncio.create_task(relay.run())
    first = await asyncio.to_thread(store_tickets, tickets_app, 3)
    await eventually(lambda: _has(js, subjects, first))
    for position in ("999999999", "0", "not a number"):
        await publish_foreign(js, subjects, position=position)
    then = await asyncio.to_thread(store_tickets, tickets_app, 3)
    await eventually(lambda: _has(js, subjects, first + 3 + then), what="the events stored after the foreign ones")
    still_leading = relay.is_leader
    relay.stop()
    await task

    assert still_leading
    assert await signed_positions(js, subjects, tickets_settings) == list(range(1, first + then + 1))


async def test_an_event_whose_id_a_foreign_message_took_first_is_still_published(
    tickets_app: TicketsApplication, tickets_settings: Settings, js: JetStreamContext, subjects: Subjects
) -> None:
    total = await asyncio.to_thread(store_tickets, tickets_app, 2)
    stored = tickets_app.recorder.select_notifications(start=1, limit=total)
    taken = to_public(tickets_app.mapper.to_domain_event(stored[3])).event_id  # ticket and version: predictable
    await js.publish(
        f"{subjects.root}.events.acme.reply_posted.v1",
        b'{"type": "ticket.reply_posted.v1"}',
        headers={MSG_ID: taken, ES_POSITION: "4"},
    )

    relay = relay_for(tickets_app, js, tickets_settings)
    task = asyncio.create_task(relay.run())
    await eventually(lambda: _has(js, subjects, total + 1), what="every event, the one whose id was taken included")
    relay.stop()
    await task

    assert await signed_positions(js, subjects, tickets_settings) == list(range(1, total + 1))


async def test_an_event_whose_id_a_foreign_message_took_while_the_relay_waited_is_still_published(
    tickets_app: TicketsApplication, tickets_settings: Settings, js: JetStreamContext, subjects: Subjects
) -> None:
    relay = relay_for(tickets_app, js, tickets_settings)
    task = asyncio.create_task(relay.run())
    outcome = await asyncio.to_thread(handle, tickets_app, open_command())
    await eventually(lambda: _has(js, subjects, 1))
    await js.publish(  # the id the ticket's next event will have
        f"{subjects.root}.events.acme.reply_posted.v1",
        b'{"type": "ticket.reply_posted.v1"}',
        headers={MSG_ID: f"{outcome.ticket_id}:2", ES_POSITION: "2"},
    )
    ticket = await asyncio.to_thread(tickets_app.get_ticket, outcome.ticket_id)
    await asyncio.to_thread(handle, tickets_app, reply(ticket, STAFF))
    await eventually(lambda: _has(js, subjects, 4), what="the reply and its status after the foreign message")
    relay.stop()
    await task

    # Each once; the event whose id was taken may follow the one after it (consumers order by version).
    assert sorted(await signed_positions(js, subjects, tickets_settings)) == [1, 2, 3]
