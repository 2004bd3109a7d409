"""Posts with files through the whole tickets service on real NATS and PostgreSQL: commands sent on the commands
stream as intake sends them (its attachments' records filled), each post's files stored with it in the event store
and published with its event on the events stream."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hostdesk_contracts.base import Visibility
from hostdesk_contracts.commands import AnyCommand, PostReply
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.runtime.directory import KvDirectory
from hostdesk_contracts.runtime.nats import connect
from hostdesk_contracts.subjects import MSG_ID, REPLY_TO, Subjects
from hostdesk_tickets.runtime import Runtime, start
from hostdesk_tickets.settings import Settings
from nats.aio.client import Client

from tests.support import eventually
from tests.unit.tickets.builders import CUSTOMER, NOW, STAFF, attachment, new_id, open_command

INBOX = "attachments"


class Service:
    """The tickets service running, and a test's view of its commands' outcomes and of the events stream."""

    def __init__(self, nc: Client, subjects: Subjects, runtime: Runtime) -> None:
        self.nc, self.js, self.subjects, self.runtime = nc, nc.jetstream(), subjects, runtime

    async def send(self, command: AnyCommand) -> CommandOutcome:
        outcomes = await self.nc.subscribe(self.subjects.outcome(INBOX, command.command_id))
        headers = {MSG_ID: str(uuid.uuid4()), REPLY_TO: self.subjects.outcome(INBOX, command.command_id)}
        await self.js.publish(self.subjects.command(command), command.model_dump_json().encode(), headers=headers)
        reply = await outcomes.next_msg(timeout=30)
        await outcomes.unsubscribe()
        return CommandOutcome.model_validate_json(reply.data)

    async def published(self, ticket_id: uuid.UUID, count: int) -> list[dict[str, Any]]:
        """The events of ``ticket_id`` on the events stream, once the relay has published ``count`` of them."""
        seen: list[dict[str, Any]] = []

        async def out() -> bool:
            seen[:] = [event for event in await self._stream() if event["ticket_id"] == str(ticket_id)]
            return len(seen) >= count

        await eventually(out, within=60, what=lambda: f"{len(seen)}/{count} events of the ticket on the stream")
        return seen

    async def _stream(self) -> list[dict[str, Any]]:
        info = await self.js.stream_info(self.subjects.events_stream)
        events = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            message = await self.js.get_msg(self.subjects.events_stream, sequence)
            events.append(json.loads(message.data))
        return events


@pytest.fixture
async def service(
    tickets_settings: Settings, subjects: Subjects, tickets_directory: KvDirectory
) -> AsyncIterator[Service]:
    runtime = await start(tickets_settings)
    nc = await connect(tickets_settings.nats_url, name="attachments-test")
    try:
        await eventually(lambda: _knows(runtime, CUSTOMER.account_id), within=20, what="the service's directory")
        yield Service(nc, subjects, runtime)
    finally:
        await nc.close()
        await runtime.stop()


async def _knows(runtime: Runtime, account_id: str) -> bool:
    return runtime.directory.ready and await runtime.directory.principal(account_id) is not None


def reply(ticket_id: uuid.UUID, **fields: Any) -> PostReply:
    return PostReply(command_id=new_id(), ticket_id=ticket_id, issued_at=NOW, body="Logs attached.", **fields)


async def test_the_files_of_each_post_are_stored_and_published_with_its_event(service: Service) -> None:
    screenshot = attachment("502.png", media_type="image/png")
    log, dump = attachment("error.log"), attachment("db.sql", media_type="application/sql")
    opening = open_command(attachments=[screenshot])
    assert (await service.send(opening)).result == "committed"
    answer = reply(opening.ticket_id, actor=STAFF, attachments=(log,))
    note = reply(opening.ticket_id, actor=STAFF, visibility=Visibility.INTERNAL, attachments=(dump,))

    outcomes = [await service.send(answer), await service.send(note)]

    assert [outcome.result for outcome in outcomes] == ["committed", "committed"]
    events = await service.published(opening.ticket_id, 4)  # opened, the answer and its status, the note
    posts = [event for event in events if event["type"] in ("ticket.opened.v1", "ticket.reply_posted.v1")]
    assert [(post.get("visibility"), post["attachments"]) for post in posts] == [
        (None, [screenshot.model_dump(mode="json")]),
        ("public", [log.model_dump(mode="json")]),
        ("internal", [dump.model_dump(mode="json")]),
    ]
    assert service.runtime.tickets.get_ticket(opening.ticket_id).attachment_count == 3


async def test_a_post_naming_one_file_twice_is_refused_over_nats_naming_attachments(service: Service) -> None:
    opening = open_command()
    assert (await service.send(opening)).result == "committed"
    twice = attachment()

    outcome = await service.send(reply(opening.ticket_id, actor=CUSTOMER, attachments=(twice, twice)))

    assert (outcome.result, outcome.refusal, outcome.field) == ("refused", Refusal.INVALID, "attachments")
    assert service.runtime.tickets.get_ticket(opening.ticket_id).version == 1
