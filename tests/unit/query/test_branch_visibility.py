"""Each caller reads exactly the tickets of its branch, and the handling side's own fields only where it handles
(the routes over the in-memory read model; ``branches`` holds the tree and who sees what)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hostdesk_contracts.access import side_of
from hostdesk_contracts.base import Actor, Side
from hostdesk_devtools.stories import TicketStory

from .branches import ANSWER, CALLERS, NOTE, SIDES, TAG, TICKETS, Ticket, Tree, addressed, opening, tickets_of, tree
from .serving import TENANT, Api


async def as_caller(api: Api, caller: Actor, path: str, **params: object) -> httpx.Response:
    """The one place this module makes a caller's request (its token, and its record in the directory)."""
    return await api.get(path, caller, **params)


async def branch_tickets(api: Api) -> tuple[Tree, dict[str, Ticket]]:
    branches = tree(TENANT)
    tickets = tickets_of(branches)
    await api.apply(*(event for ticket in tickets.values() for event in ticket.events))
    return branches, tickets


def names_of(items: list[dict[str, Any]], tickets: dict[str, Ticket]) -> set[str]:
    by_id = {str(ticket.story.ticket_id): name for name, ticket in tickets.items()}
    return {by_id[item["ticket_id"]] for item in items}


def test_who_sees_what_is_the_one_rule_of_the_contracts() -> None:
    branches = tree(TENANT)
    tickets = tickets_of(branches)

    for caller in CALLERS:
        seen = {}
        for name, ticket in tickets.items():
            opened = opening(ticket)
            side = side_of(
                branches[caller],
                tenant=opened.tenant,
                requester_id=opened.requester.account_id,
                handling_organisation_id=opened.handling_organisation_id,
                department=opened.department,
            )
            if side is not None:
                seen[name] = side
        assert seen == SIDES[caller], caller


@pytest.mark.parametrize("caller", CALLERS)
async def test_each_caller_lists_exactly_the_tickets_of_its_branch(api: Api, caller: str) -> None:
    branches, tickets = await branch_tickets(api)

    response = await as_caller(api, branches[caller], "/v1/tickets")

    assert response.status_code == 200
    assert names_of(response.json()["items"], tickets) == set(SIDES[caller])


@pytest.mark.parametrize("caller", CALLERS)
async def test_the_handling_sides_own_fields_are_listed_only_where_the_caller_handles(api: Api, caller: str) -> None:
    branches, tickets = await branch_tickets(api)

    items = (await as_caller(api, branches[caller], "/v1/tickets")).json()["items"]

    for item in items:
        (name,) = names_of([item], tickets)
        handling = SIDES[caller][name] is Side.HANDLER
        assert ("tags" in item, "assignee" in item) == (handling, handling), (caller, name)
        assert item["handling_organisation_id"] == opening(tickets[name]).handling_organisation_id


@pytest.mark.parametrize("caller", CALLERS)
async def test_a_ticket_outside_the_branch_answers_404_and_inside_it_shows_notes_only_to_the_handler(
    api: Api, caller: str
) -> None:
    branches, tickets = await branch_tickets(api)

    for name, ticket in tickets.items():
        response = await as_caller(api, branches[caller], f"/v1/tickets/{ticket.story.ticket_id}")
        side = SIDES[caller].get(name)
        if side is None:
            assert response.status_code == 404, (caller, name)
            continue
        assert response.status_code == 200, (caller, name)
        detail = response.json()
        bodies = [entry["body"] for entry in detail["timeline"]]
        handling = side is Side.HANDLER
        assert (NOTE in bodies, ANSWER in bodies) == (handling, True), (caller, name)
        assert detail.get("tags") == ([TAG] if handling else None), (caller, name)
        assert detail["handling_organisation_id"] == opening(ticket).handling_organisation_id


async def test_a_reseller_filtering_on_the_assignee_lists_only_the_tickets_it_handles(api: Api) -> None:
    branches, tickets = await branch_tickets(api)

    response = await as_caller(api, branches["reseller"], "/v1/tickets", assignee="none")

    assert response.status_code == 200
    assert names_of(response.json()["items"], tickets) == {"to_reseller", "neighbours"}


async def test_a_customer_filtering_on_the_assignee_lists_its_subaccounts_tickets(api: Api) -> None:
    branches, tickets = await branch_tickets(api)

    response = await as_caller(api, branches["customer"], "/v1/tickets", assignee="none")

    assert names_of(response.json()["items"], tickets) == {"to_customer"}


class OwnDepartments:
    """Limits the members of staff it is told of to their departments, as an organisation may ask."""

    def __init__(self, limits: dict[str, frozenset[str]]) -> None:
        self.limits = limits

    async def limit_for(self, actor: Actor) -> frozenset[str] | None:
        return self.limits.get(actor.account_id)


async def test_staff_limited_to_their_departments_see_those_and_the_unrouted_and_404_on_the_rest(api: Api) -> None:
    branches = tree(TENANT)
    agent = branches["reseller_agent"]
    routed = {}
    for department in ("Billing", "Technical Support", None):
        ticket = addressed(branches["customer"], branches.reseller_id, agent)
        opened = opening(ticket).model_copy(update={"department": department})
        await api.apply(opened, *ticket.events[1:])
        routed[department] = ticket.story
    api.app.state.staff_departments = OwnDepartments({agent.account_id: frozenset({"Billing"})})

    listed = (await as_caller(api, agent, "/v1/tickets")).json()["items"]
    hidden = await as_caller(api, agent, f"/v1/tickets/{routed['Technical Support'].ticket_id}")

    assert {item["ticket_id"] for item in listed} == {str(routed[d].ticket_id) for d in ("Billing", None)}
    assert hidden.status_code == 404


async def test_without_a_department_provider_staff_see_every_department(api: Api) -> None:
    branches = tree(TENANT)
    story = TicketStory(branches["customer"])
    await api.apply(story.opened().model_copy(update={"handling_organisation_id": branches.reseller_id}))

    response = await as_caller(api, branches["reseller_agent"], f"/v1/tickets/{story.ticket_id}")

    assert response.status_code == 200
    assert response.json()["department"] == "Technical Support"


def test_the_scenario_names_every_ticket() -> None:
    assert set(tickets_of(tree(TENANT))) == set(TICKETS)
