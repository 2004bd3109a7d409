"""Commands through the real commands stream: applied once, however often they are delivered."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from hostdesk_contracts.commands import OpenTicket, PostReply
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.runtime.directory import KvDirectory
from hostdesk_contracts.runtime.nats import connect, ensure_streams, outcomes_bucket
from hostdesk_contracts.subjects import MSG_ID, REPLY_TO, Subjects
from hostdesk_tickets.entrypoints.commands import CommandConsumer
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings
from nats.aio.client import Client
from nats.aio.subscription import Subscription

from tests.unit.tickets.builders import CUSTOMER, NOW, STAFF, open_command

INBOX = "test"


class Harness:
    def __init__(self, nc: Client, subjects: Subjects, outcomes: Subscription) -> None:
        self.nc, self.js, self.subjects, self.outcomes = nc, nc.jetstream(), subjects, outcomes

    async def send(self, command: OpenTicket | PostReply, *, message_id: str | None = None) -> CommandOutcome:
        """Publish ``command`` (a fresh Msg-Id defeats JetStream's de-duplication, as a late redelivery would)."""
        headers = {MSG_ID: message_id or str(uuid.uuid4()), REPLY_TO: self.subjects.outcome(INBOX, command.command_id)}
        await self.js.publish(self.subjects.command(command), command.model_dump_json().encode(), headers=headers)
        reply = await self.outcomes.next_msg(timeout=10)
        return CommandOutcome.model_validate_json(reply.data)


@pytest.fixture
async def harness(
    tickets_app: TicketsApplication, tickets_settings: Settings, subjects: Subjects, tickets_directory: KvDirectory
) -> AsyncIterator[Harness]:
    nc = await connect(tickets_settings.nats_url, name="commands-test")
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    consumer = CommandConsumer(
        app=tickets_app,
        nc=nc,
        js=js,
        outcomes=await outcomes_bucket(js, subjects),
        directory=tickets_directory,
        subjects=subjects,
        settings=tickets_settings.model_copy(update={"missing_ticket_retries": 1}),
    )
    task = asyncio.create_task(consumer.run())
    yield Harness(nc, subjects, await nc.subscribe(subjects.outcome_inbox(INBOX)))
    consumer.stop()
    await task
    await nc.close()


async def test_an_open_command_delivered_twice_opens_one_ticket(
    harness: Harness, tickets_app: TicketsApplication
) -> None:
    command = open_command()

    first = await harness.send(command)
    second = await harness.send(command)

    assert first == second
    assert first.result == "committed"
    assert first.version == 1
    assert tickets_app.recorder.max_notification_id() == 1


async def test_a_reply_delivered_twice_posts_once(harness: Harness, tickets_app: TicketsApplication) -> None:
    opened = await harness.send(open_command())
    reply = PostReply(command_id="reply-1", ticket_id=opened.ticket_id, actor=STAFF, issued_at=NOW, body="Done.")

    first = await harness.send(reply)
    second = await harness.send(reply)

    assert first == second
    assert first.version == 3
    assert tickets_app.get_ticket(opened.ticket_id).version == 3


async def test_a_reply_to_a_ticket_that_never_comes_is_refused_as_not_found(harness: Harness) -> None:
    reply = PostReply(command_id="reply-2", ticket_id=uuid.uuid4(), actor=CUSTOMER, issued_at=NOW, body="Hello?")

    outcome = await harness.send(reply)

    assert outcome.result == "refused"
    assert outcome.refusal is Refusal.NOT_FOUND


async def test_the_outcome_stays_readable_in_the_bucket(harness: Harness, subjects: Subjects) -> None:
    command = open_command()

    outcome = await harness.send(command)

    bucket = await outcomes_bucket(harness.js, subjects)
    entry = await bucket.get(command.command_id)
    assert entry.value is not None
    assert CommandOutcome.model_validate_json(entry.value) == outcome


async def test_a_malformed_command_is_set_aside_and_the_next_one_applies(harness: Harness, subjects: Subjects) -> None:
    garbage = await harness.js.publish(f"{subjects.root}.commands.acme.open", b"{not json", headers={MSG_ID: "g-1"})

    outcome = await harness.send(open_command())

    assert outcome.result == "committed"
    info = await harness.js.consumer_info(subjects.commands_stream, "tickets")
    assert info.ack_floor.stream_seq > garbage.seq  # terminated, not left pending to come back


async def test_a_long_conversation_is_snapshotted_and_loads_the_same(
    harness: Harness, tickets_app: TicketsApplication
) -> None:
    opened = await harness.send(open_command())
    for n in range(30):  # two events each: a post and a status change
        actor = STAFF if n % 2 == 0 else CUSTOMER
        await harness.send(
            PostReply(command_id=f"turn-{n}", ticket_id=opened.ticket_id, actor=actor, issued_at=NOW, body=f"#{n}")
        )

    snapshots = list(tickets_app.snapshots.get(opened.ticket_id)) if tickets_app.snapshots else []
    ticket = tickets_app.get_ticket(opened.ticket_id)

    assert [snapshot.originator_version for snapshot in snapshots] == [50]
    assert ticket.version == 61
    replayed = None
    for event in tickets_app.events.get(opened.ticket_id):  # every event, no snapshot
        replayed = event.mutate(replayed)  # type: ignore[attr-defined]
    assert vars(ticket) == vars(replayed)
