"""Tickets addressed through the directory on real NATS and PostgreSQL: the whole tickets service (one replica,
or two sharing the commands consumer), its callers and their organisations in the directory bucket
(``seed_bucket``), commands sent on the commands stream as intake sends them."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from typing import Any

import pytest
from hostdesk_contracts.base import Status
from hostdesk_contracts.commands import AnyCommand, PostReply
from hostdesk_contracts.directory import Department, Record
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.runtime.nats import connect
from hostdesk_contracts.subjects import MSG_ID, REPLY_TO, Subjects
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.runtime import Runtime, start
from hostdesk_tickets.settings import Settings
from nats.aio.client import Client
from nats.aio.msg import Msg

from tests.support import eventually, seed_bucket
from tests.unit.tickets.builders import NOW, configuration, new_id
from tests.unit.tickets.test_addressing import (
    AGENT,
    CUST_P,
    CUST_R,
    RESELLER_AGENT,
    SUB,
    TENANT,
    open_as,
    staff,
    tree_records,
)

INBOX = "addressing"
HOSTING_AGENTS = tuple(f"host-{n}" for n in range(1, 5))


class Installation:
    """The test's installation: its directory bucket seeded, tickets replicas running, commands sent over NATS."""

    def __init__(self, nc: Client, subjects: Subjects, replicas: Sequence[Runtime]) -> None:
        self.nc, self.js, self.subjects, self.replicas = nc, nc.jetstream(), subjects, replicas
        self.outcomes: dict[str, CommandOutcome] = {}

    async def listen(self) -> None:
        async def keep(message: Msg) -> None:
            outcome = CommandOutcome.model_validate_json(message.data)
            self.outcomes[outcome.command_id] = outcome

        await self.nc.subscribe(self.subjects.outcome_inbox(INBOX), cb=keep)

    async def send(self, *commands: AnyCommand) -> list[CommandOutcome]:
        """Publish each command as intake does, and wait for every outcome."""
        for command in commands:
            headers = {MSG_ID: str(uuid.uuid4()), REPLY_TO: self.subjects.outcome(INBOX, command.command_id)}
            await self.js.publish(self.subjects.command(command), command.model_dump_json().encode(), headers=headers)
        ids = [command.command_id for command in commands]

        async def answered() -> bool:
            return all(command_id in self.outcomes for command_id in ids)

        await eventually(
            answered, within=120, what=lambda: f"{sum(i in self.outcomes for i in ids)}/{len(ids)} outcomes"
        )
        return [self.outcomes[command_id] for command_id in ids]

    def ticket(self, ticket_id: uuid.UUID) -> Ticket:
        return self.replicas[0].tickets.get_ticket(ticket_id)

    def stored(self, ticket_id: uuid.UUID) -> int:
        return len(list(self.replicas[0].tickets.repository.event_store.get(ticket_id)))

    async def published(self, count: int) -> list[dict[str, Any]]:
        """The events on the stream, once the relay has published at least ``count``."""

        async def out() -> bool:
            info = await self.js.stream_info(self.subjects.events_stream)
            return bool(info.state.messages >= count)

        await eventually(out, within=60, what=f"{count} events on the stream")
        info = await self.js.stream_info(self.subjects.events_stream)
        events = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            message = await self.js.get_msg(self.subjects.events_stream, sequence)
            events.append(json.loads(message.data))
        return events


async def installation(
    settings: Settings, subjects: Subjects, nats_url: str, *, replicas: int, records: Sequence[Record] = ()
) -> AsyncIterator[Installation]:
    nc = await connect(nats_url, name="addressing-test")
    try:
        await seed_bucket(nc.jetstream(), subjects, *tree_records(), *records)
        async with AsyncExitStack() as stack:
            running = []
            for n in range(replicas):
                runtime = await start(settings.model_copy(update={"instance": f"tickets-{n}-{uuid.uuid4().hex[:6]}"}))
                stack.push_async_callback(runtime.stop)
                running.append(runtime)
            for runtime in running:
                await eventually(lambda r=runtime: _sees_the_tree(r), within=20, what="each replica's directory")
            here = Installation(nc, subjects, running)
            await here.listen()
            yield here
    finally:
        await nc.close()


async def _sees_the_tree(runtime: Runtime) -> bool:
    return runtime.directory.ready and await runtime.directory.principal("sub-1") is not None


@pytest.fixture
async def one_replica(tickets_settings: Settings, subjects: Subjects, nats_url: str) -> AsyncIterator[Installation]:
    async for here in installation(tickets_settings, subjects, nats_url, replicas=1):
        yield here


async def test_a_customer_opens_to_its_reseller_by_default_and_to_the_provider_by_choice(
    one_replica: Installation,
) -> None:
    to_parent, to_provider = open_as(CUST_R), open_as(CUST_R, handling_organisation_id=TENANT)

    outcomes = await one_replica.send(to_parent, to_provider)

    assert [outcome.result for outcome in outcomes] == ["committed", "committed"]
    assert one_replica.ticket(to_parent.ticket_id).handling_organisation_id == "reseller-1"
    assert one_replica.ticket(to_provider.ticket_id).handling_organisation_id == TENANT
    events = await one_replica.published(2)
    assert [event["handling_organisation_id"] for event in events] == ["reseller-1", TENANT]


async def test_a_subaccount_opens_to_its_customer(one_replica: Installation) -> None:
    opening = open_as(SUB)

    (outcome,) = await one_replica.send(opening)

    assert outcome.result == "committed"
    assert one_replica.ticket(opening.ticket_id).handling_organisation_id == "cust-r"


async def test_the_providers_staff_cannot_reply_to_a_ticket_addressed_to_a_reseller(one_replica: Installation) -> None:
    opening = open_as(CUST_R)
    await one_replica.send(opening)
    reply = PostReply(command_id=new_id(), ticket_id=opening.ticket_id, actor=AGENT, issued_at=NOW, body="Hello.")

    (outcome,) = await one_replica.send(reply)

    assert (outcome.result, outcome.refusal) == ("refused", Refusal.NOT_FOUND)
    assert one_replica.stored(opening.ticket_id) == 1


async def test_a_resellers_staff_opens_a_ticket_to_its_customer_which_starts_answered(
    one_replica: Installation,
) -> None:
    opening = open_as(RESELLER_AGENT, requester_id="cust-r")

    (outcome,) = await one_replica.send(opening)

    assert outcome.result == "committed"
    ticket = one_replica.ticket(opening.ticket_id)
    assert (ticket.requester_id, ticket.handling_organisation_id, ticket.status) == (
        "cust-r",
        "reseller-1",
        Status.ANSWERED,
    )
    (event,) = await one_replica.published(1)
    assert (event["status"], event["side"], event["requester"]["email"]) == ("answered", "handler", "r@example.com")


async def test_a_department_of_another_organisation_is_refused_naming_the_department(
    one_replica: Installation,
) -> None:
    opening = open_as(CUST_R, department="Billing")  # the provider's, not its reseller's

    (outcome,) = await one_replica.send(opening)

    assert (outcome.result, outcome.refusal, outcome.field) == ("refused", Refusal.INVALID, "department")
    assert one_replica.stored(opening.ticket_id) == 0


async def test_two_replicas_share_a_round_robin_departments_tickets_evenly_and_assign_each_once(
    tickets_settings: Settings, subjects: Subjects, nats_url: str
) -> None:
    hosting = configuration(TENANT, departments=(Department(name="Hosting", round_robin=True),), version=2)
    agents = [staff(agent, TENANT, departments=("Hosting",)) for agent in HOSTING_AGENTS]
    openings = [open_as(CUST_P, department="Hosting") for _ in range(200)]

    async for here in installation(tickets_settings, subjects, nats_url, replicas=2, records=(hosting, *agents)):
        await eventually(
            lambda here=here: _configured(here), within=20, what="the Hosting department in every replica's directory"
        )
        outcomes = await here.send(*openings)
        events = await here.published(400)

    assert {outcome.result for outcome in outcomes} == {"committed"}
    assigned = [event for event in events if event["type"] == "ticket.assigned.v1"]
    assert Counter(event["ticket_id"] for event in assigned) == Counter({str(o.ticket_id): 1 for o in openings})
    shares = Counter(event["assignee"]["account_id"] for event in assigned)
    # A turn is drawn once per decision of an open; an open decided again keeps its turn, except one delivered again
    # after its first decision committed (a replica slow to acknowledge), whose new turn goes to nobody: a skip.
    assert set(shares) == set(HOSTING_AGENTS)
    assert all(48 <= share <= 52 for share in shares.values()), shares


async def _configured(here: Installation) -> bool:
    for runtime in here.replicas:
        found = await runtime.directory.configuration(TENANT)
        if found is None or found.version < 2:
            return False
    return True
