"""A ticket's delivery log answers only its handling side: the staff of the organisation it is addressed to, or
that account itself. Everyone else of the tree, the requester included, is answered 404 (on real NATS and
PostgreSQL; ``tests.unit.query.branches`` holds the tree and who sees what)."""

from __future__ import annotations

import httpx
from hostdesk_contracts.base import Actor, Side
from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE
from hostdesk_notify.settings import Settings

from tests.integration.notify.harness import JWT_SECRET, Relay, running_notify
from tests.support import BucketCallers, eventually
from tests.unit.query.branches import CALLERS, SIDES, Ticket, tickets_of, tree


async def deliveries_for(
    client: httpx.AsyncClient, callers: BucketCallers, caller: Actor, ticket: Ticket
) -> httpx.Response:
    """The one place this module makes a caller's request (its record in the directory bucket, and its token)."""
    headers = await callers.bearer(caller, secret=JWT_SECRET)
    return await client.get("/v1/deliveries", params={"ticket_id": str(ticket.story.ticket_id)}, headers=headers)


async def test_only_the_handling_side_of_each_ticket_reads_its_deliveries(
    notify_settings: Settings, relay: Relay, callers: BucketCallers, tenant: str
) -> None:
    branches = tree(tenant)
    tickets = tickets_of(branches)

    async with running_notify(notify_settings) as client:
        for ticket in tickets.values():
            for event in ticket.events:
                await relay.publish(event)
        for ticket in tickets.values():

            async def handled(ticket: Ticket = ticket) -> bool:
                answer = await deliveries_for(client, callers, ticket.handler, ticket)
                return answer.status_code == 200 and bool(answer.json()["deliveries"])

            await eventually(handled, within=20, what=f"the deliveries of {ticket.story.ticket_id}")

        answers = {
            (caller, name): await deliveries_for(client, callers, branches[caller], ticket)
            for caller in CALLERS
            for name, ticket in tickets.items()
        }

    for (caller, name), answer in answers.items():
        handling = SIDES[caller].get(name) is Side.HANDLER
        assert answer.status_code == (200 if handling else 404), (caller, name)
        if handling:
            assert answer.json()["ticket_id"] == str(tickets[name].story.ticket_id)
        else:
            assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
