"""The tickets service refuses abuse through its real commands stream, on real PostgreSQL and NATS: a merge of two
requesters' tickets, a requester's flood of replies, a requester's long CC list, an oversized post, and posts past
what one ticket holds."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from hostdesk_contracts.base import Actor, Visibility
from hostdesk_contracts.commands import (
    POST_BODY_MAX_CHARS,
    CommandBase,
    MergeTicket,
    OpenTicket,
    PostReply,
    ticket_id_for,
)
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.runtime.nats import connect
from hostdesk_contracts.subjects import MSG_ID, REPLY_TO, Subjects
from hostdesk_tickets.domain.limits import POSTS_MAX, REQUESTER_BURST_MAX
from hostdesk_tickets.runtime import Runtime, start
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.service_layer.lookups import look_up_all
from hostdesk_tickets.settings import Settings
from nats.aio.client import Client
from nats.aio.subscription import Subscription

from tests.support import seed_bucket
from tests.unit.tickets.builders import CUSTOMER, NOW, OTHER_CUSTOMER, STAFF, new_id, open_command

INBOX = "abuse"


@dataclass
class Desk:
    """The running tickets service, and a caller who sends it commands as intake does and reads their outcomes."""

    runtime: Runtime
    nc: Client
    subjects: Subjects
    outcomes: Subscription

    @property
    def app(self) -> TicketsApplication:
        return self.runtime.tickets

    async def publish(self, subject: str, payload: bytes, *, command_id: str) -> None:
        headers = {MSG_ID: str(uuid.uuid4()), REPLY_TO: self.subjects.outcome(INBOX, command_id)}
        await self.nc.jetstream().publish(subject, payload, headers=headers)

    async def send(self, command: CommandBase) -> CommandOutcome:
        await self.publish(
            self.subjects.command(command), command.model_dump_json().encode(), command_id=command.command_id
        )
        reply = await self.outcomes.next_msg(timeout=10)
        outcome = CommandOutcome.model_validate_json(reply.data)
        assert outcome.command_id == command.command_id
        return outcome

    async def opened(self, actor: Actor = CUSTOMER) -> OpenTicket:
        command = open_command(actor)
        assert (await self.send(command)).result == "committed"
        return command


@pytest.fixture
async def desk(tickets_settings: Settings, subjects: Subjects) -> AsyncIterator[Desk]:
    nc = await connect(tickets_settings.nats_url, name="abuse-test")
    await seed_bucket(
        nc.jetstream(), subjects, CUSTOMER, OTHER_CUSTOMER, STAFF
    )  # the callers, as the directory has them
    runtime = await start(tickets_settings)
    try:
        yield Desk(runtime, nc, subjects, await nc.subscribe(subjects.outcome_inbox(INBOX)))
    finally:
        await nc.close()
        await runtime.stop()


def post(opening: OpenTicket, actor: Actor, body: str = "Any news?", **fields: object) -> PostReply:
    return PostReply(command_id=new_id(), ticket_id=opening.ticket_id, actor=actor, issued_at=NOW, body=body, **fields)


async def test_staff_merging_one_requesters_ticket_into_anothers_is_refused_and_both_stay_their_own(
    desk: Desk,
) -> None:
    theirs = await desk.opened(OTHER_CUSTOMER)
    mine = await desk.opened(CUSTOMER)

    outcome = await desk.send(
        MergeTicket(
            command_id=new_id(), ticket_id=theirs.ticket_id, actor=STAFF, issued_at=NOW, into_ticket_id=mine.ticket_id
        )
    )
    their_reply = await desk.send(post(theirs, OTHER_CUSTOMER, "Still bouncing."))

    assert (outcome.result, outcome.refusal, outcome.field) == ("refused", Refusal.INVALID, "into_ticket_id")
    assert "another requester" in (outcome.detail or "")
    assert their_reply.result == "committed"  # not sent off to a ticket that answers them 404
    target = await asyncio.to_thread(desk.app.get_ticket, mine.ticket_id)
    source = await asyncio.to_thread(desk.app.get_ticket, theirs.ticket_id)
    assert (target.version, target.post_ids) == (1, [mine.command_id])
    assert source.merged_into is None


async def test_a_requesters_replies_past_ten_in_a_minute_are_refused_until_staff_answer(desk: Desk) -> None:
    opening = await desk.opened()
    for _ in range(REQUESTER_BURST_MAX):
        assert (await desk.send(post(opening, CUSTOMER))).result == "committed"

    flooded = await desk.send(post(opening, CUSTOMER, "x" * 6_000))
    answered = await desk.send(post(opening, STAFF, "Looking into it."))
    after_answer = await desk.send(post(opening, CUSTOMER, "Thanks!"))

    assert (flooded.result, flooded.refusal) == ("refused", Refusal.RATE_LIMITED)
    assert flooded.retry_after is not None
    assert 1 <= flooded.retry_after <= 60
    assert answered.result == after_answer.result == "committed"
    ticket = await asyncio.to_thread(desk.app.get_ticket, opening.ticket_id)
    assert len(ticket.post_ids) == 1 + REQUESTER_BURST_MAX + 2


async def test_a_customer_opening_a_ticket_with_six_cc_recipients_is_refused_and_with_five_opens_it(
    desk: Desk,
) -> None:
    def opening(count: int) -> OpenTicket:
        command_id = new_id()
        cc = tuple(f"colleague{n}@example.com" for n in range(count))
        return OpenTicket(
            command_id=command_id,
            ticket_id=ticket_id_for(command_id),
            actor=CUSTOMER,
            issued_at=NOW,
            subject="Mail bounces",
            body="Every mail to example.com bounces.",
            cc=cc,
        )

    six, five = await desk.send(opening(6)), await desk.send(opening(5))

    assert (six.result, six.refusal, six.field) == ("refused", Refusal.INVALID, "cc")
    assert five.result == "committed"


async def test_a_post_longer_than_20000_characters_is_set_aside_and_the_next_post_applies(desk: Desk) -> None:
    opening = await desk.opened()
    oversized = post(opening, CUSTOMER).model_dump(mode="json") | {"body": "x" * (POST_BODY_MAX_CHARS + 1)}
    subject = desk.subjects.command(post(opening, CUSTOMER))
    await desk.publish(subject, json.dumps(oversized).encode(), command_id=oversized["command_id"])  # no outcome

    following = await desk.send(post(opening, CUSTOMER, "x" * POST_BODY_MAX_CHARS))

    assert following.result == "committed"
    ticket = await asyncio.to_thread(desk.app.get_ticket, opening.ticket_id)
    assert ticket.post_ids == [opening.command_id, following.command_id]


async def test_a_ticket_holding_1000_posts_refuses_the_next(desk: Desk) -> None:
    opening = await desk.opened()
    notes = [post(opening, STAFF, f"note {n}", visibility=Visibility.INTERNAL) for n in range(POSTS_MAX - 1)]
    for start_at in range(0, len(notes), 100):
        batch = notes[start_at : start_at + 100]
        facts = await look_up_all(batch, desk.runtime.directory)
        results = await asyncio.to_thread(desk.app.handle_batch, batch, facts)
        assert all(isinstance(r, CommandOutcome) and r.result == "committed" for r in results)

    refused = await desk.send(post(opening, CUSTOMER, "One more?"))

    assert (refused.result, refused.refusal) == ("refused", Refusal.CONFLICT)
    assert f"{POSTS_MAX} posts" in (refused.detail or "")
