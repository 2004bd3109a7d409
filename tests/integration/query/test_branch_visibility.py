"""On real NATS and PostgreSQL, each caller of a provider's tree reads exactly the tickets of its branch: tickets
addressed to the provider, to a reseller and to a customer, published on the stream as the relay publishes them;
callers recorded in the directory bucket (``tests.unit.query.branches`` holds the tree and who sees what)."""

from __future__ import annotations

import httpx
from hostdesk_contracts.base import Actor, Side

# ``service``: the query service's fixture, with its callers recorded in the directory bucket.
from tests.integration.query.test_query_service import Service, at_version, service  # noqa: F401
from tests.unit.query.branches import ANSWER, CALLERS, NOTE, SIDES, TAG, Ticket, Tree, opening, tickets_of, tree


async def as_caller(query: Service, caller: Actor, path: str, **params: object) -> httpx.Response:
    """The one place this module makes a caller's request (its record in the directory bucket, and its token)."""
    return await query.get(path, caller, **params)


async def published(query: Service, tenant: str) -> tuple[Tree, dict[str, Ticket]]:
    """The tree's tickets on the stream, once each reads back whole to its handling side."""
    branches = tree(tenant)
    tickets = tickets_of(branches)
    for ticket in tickets.values():
        for event in ticket.events:
            await query.publish(event)
    for ticket in tickets.values():
        path = f"/v1/tickets/{ticket.story.ticket_id}"
        await query.eventually(path, ticket.handler, at_version(len(ticket.events)))
    return branches, tickets


async def test_each_caller_lists_exactly_the_tickets_of_its_branch(service: Service, tenant: str) -> None:  # noqa: F811
    branches, tickets = await published(service, tenant)
    names = {str(ticket.story.ticket_id): name for name, ticket in tickets.items()}

    for caller in CALLERS:
        response = await as_caller(service, branches[caller], "/v1/tickets")

        assert response.status_code == 200, caller
        items = response.json()["items"]
        assert {names[item["ticket_id"]] for item in items} == set(SIDES[caller]), caller
        for item in items:
            handling = SIDES[caller][names[item["ticket_id"]]] is Side.HANDLER
            assert (item.get("tags"), "assignee" in item) == (([TAG], True) if handling else (None, False)), caller


async def test_others_tickets_answer_404_and_only_the_handler_reads_internal_notes_and_tags(
    service: Service,  # noqa: F811
    tenant: str,
) -> None:
    branches, tickets = await published(service, tenant)

    for caller in CALLERS:
        for name, ticket in tickets.items():
            response = await as_caller(service, branches[caller], f"/v1/tickets/{ticket.story.ticket_id}")
            side = SIDES[caller].get(name)
            if side is None:
                assert response.status_code == 404, (caller, name)
                continue
            assert response.status_code == 200, (caller, name)
            detail = response.json()
            bodies = [entry["body"] for entry in detail["timeline"]]
            handling = side is Side.HANDLER
            assert (NOTE in bodies, ANSWER in bodies, detail.get("tags")) == (
                handling,
                True,
                [TAG] if handling else None,
            ), (caller, name)
            assert detail["handling_organisation_id"] == opening(ticket).handling_organisation_id
