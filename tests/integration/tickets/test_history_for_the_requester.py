"""The tickets service's history over PostgreSQL, as the requesting side may count it (its own entries, by their
positions, and no address or command of the handling side), a bounded page at a time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hostdesk_contracts.base import Actor, Assignee, Role, Visibility
from hostdesk_contracts.commands import AssignTicket, CommandBase, OpenTicket, PostReply, UpdateTicket
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings

from tests.integration.tickets.test_history import bearer, tickets_service
from tests.support import BucketCallers
from tests.unit.tickets.builders import CUSTOMER, NOW, STAFF, directory_of, handle, new_id, open_command

STAFF_WITH_ADDRESS = STAFF.model_copy(update={"email": "sam@provider.example"})


def act(app: TicketsApplication, opening: OpenTicket, kind: type[CommandBase], actor: Actor, **fields: Any) -> None:
    command = kind(command_id=new_id(), ticket_id=opening.ticket_id, actor=actor, issued_at=NOW, **fields)
    outcome = handle(app, command)  # type: ignore[arg-type]
    assert outcome.result == "committed", outcome.detail


def handled_ticket(app: TicketsApplication, *, notes: int = 1) -> OpenTicket:
    """v1 opened; then ``notes`` times an internal note and a public answer (the first also sets the status);
    then an assignment and tags, the handling side's own."""
    opening = open_command()
    assert handle(app, opening).result == "committed"
    for turn in range(notes):
        act(app, opening, PostReply, STAFF_WITH_ADDRESS, body=f"Note {turn}.", visibility=Visibility.INTERNAL)
        act(app, opening, PostReply, STAFF_WITH_ADDRESS, body=f"Answer {turn}.")
    act(app, opening, AssignTicket, STAFF, assignee=Assignee(account_id="agent-1", email="sam@provider.example"))
    act(app, opening, UpdateTicket, STAFF, tags=("vip",))
    return opening


async def test_the_requester_counts_only_its_own_entries_and_sees_no_staff_address_or_command(
    tickets_app: TicketsApplication, tickets_settings: Settings, callers: BucketCallers
) -> None:
    opening = await asyncio.to_thread(handled_ticket, tickets_app)  # v1-v6; the requester sees v1, v3, v4
    path = f"/v1/tickets/{opening.ticket_id}/history"

    async with tickets_service(tickets_settings) as client:
        mine = await client.get(path, headers=await bearer(callers, tickets_settings, CUSTOMER))
        staffs = await client.get(path, headers=await bearer(callers, tickets_settings, STAFF))

    assert mine.status_code == staffs.status_code == 200
    timeline = mine.json()["timeline"]
    assert [entry["position"] for entry in timeline] == [1, 2, 3]
    assert [entry["type"] for entry in timeline] == [
        "ticket.opened.v1",
        "ticket.reply_posted.v1",
        "ticket.status_changed.v1",
    ]
    assert all({"version", "event_id", "command_id"}.isdisjoint(entry) for entry in timeline)
    assert (timeline[1]["actor"]["display_name"], timeline[1]["actor"]["email"]) == ("Sam", None)
    assert "sam@provider.example" not in mine.text
    assert "version" not in mine.json()["ticket"]
    assert mine.json()["ticket"]["updated_at"] == timeline[-1]["occurred_at"]  # not the tags' time after it
    assert [event["version"] for event in staffs.json()["timeline"]] == [1, 2, 3, 4, 5, 6]
    assert all(event["command_id"] for event in staffs.json()["timeline"])
    assert "sam@provider.example" in staffs.text
    assert staffs.json()["ticket"]["version"] == 6


async def test_the_requesters_version_is_the_position_of_an_entry_of_its_own_timeline(
    tickets_app: TicketsApplication, tickets_settings: Settings, callers: BucketCallers
) -> None:
    opening = await asyncio.to_thread(handled_ticket, tickets_app)
    path = f"/v1/tickets/{opening.ticket_id}/history"

    async with tickets_service(tickets_settings) as client:
        second = await client.get(
            path, params={"version": 2}, headers=await bearer(callers, tickets_settings, CUSTOMER)
        )
        fourth = await client.get(
            path, params={"version": 4}, headers=await bearer(callers, tickets_settings, CUSTOMER)
        )

    assert second.status_code == 200
    assert [entry.get("body") for entry in second.json()["timeline"]] == [opening.body, "Answer 0."]
    assert second.json()["ticket"]["status"] == "open"  # the answer's status change is its third entry
    assert fourth.status_code == 404
    assert fourth.headers["content-type"] == "application/problem+json"
    assert "holds 3 entries; it has no entry 4" in fourth.json()["detail"]


async def test_the_timeline_comes_in_pages_that_hold_every_entry_once(
    tickets_app: TicketsApplication, tickets_settings: Settings, callers: BucketCallers
) -> None:
    opening = await asyncio.to_thread(handled_ticket, tickets_app, notes=8)  # 20 events, 10 the requester's
    path = f"/v1/tickets/{opening.ticket_id}/history"

    async def pages(caller: Actor) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        cursor: str | None = None
        async with tickets_service(tickets_settings) as client:
            while True:
                params: dict[str, object] = {"timeline_limit": 3} | ({"timeline_cursor": cursor} if cursor else {})
                response = await client.get(
                    path, params=params, headers=await bearer(callers, tickets_settings, caller)
                )
                assert response.status_code == 200, response.text
                answers.append(response.json())
                if (cursor := response.json()["timeline_next_cursor"]) is None:
                    return answers

    for_staff, for_requester = await pages(STAFF), await pages(CUSTOMER)

    assert [event["version"] for page in for_staff for event in page["timeline"]] == list(range(1, 21))
    assert max(len(page["timeline"]) for page in for_staff) == 3
    assert [entry["position"] for page in for_requester for entry in page["timeline"]] == list(range(1, 11))
    assert len(for_requester) == 4


@pytest.mark.parametrize(("moment", "status"), [("0001-01-01T00:00:00+05:00", 404), ("9999-12-31T23:59:59-05:00", 200)])
async def test_a_moment_at_either_end_of_the_calendar_is_answered_not_a_500(
    tickets_app: TicketsApplication, tickets_settings: Settings, moment: str, status: int, callers: BucketCallers
) -> None:
    opening = await asyncio.to_thread(handled_ticket, tickets_app)

    async with tickets_service(tickets_settings) as client:
        response = await client.get(
            f"/v1/tickets/{opening.ticket_id}/history",
            params={"at": moment},
            headers=await bearer(callers, tickets_settings, STAFF),
        )

    assert response.status_code == status, response.text


async def test_a_reseller_who_requested_a_ticket_from_its_provider_reads_it_as_its_requester(
    tickets_app: TicketsApplication, tickets_settings: Settings, callers: BucketCallers
) -> None:
    colleague = Actor(account_id="reseller-7", tenant=CUSTOMER.tenant, role=Role.RESELLER)
    opening = open_command(colleague)
    assert (await asyncio.to_thread(handle, tickets_app, opening, directory_of(colleague))).result == "committed"
    await asyncio.to_thread(act, tickets_app, opening, PostReply, STAFF, body="Noted.", visibility=Visibility.INTERNAL)

    async with tickets_service(tickets_settings) as client:
        response = await client.get(
            f"/v1/tickets/{opening.ticket_id}/history", headers=await bearer(callers, tickets_settings, colleague)
        )

    assert response.status_code == 200
    assert [entry["position"] for entry in response.json()["timeline"]] == [1]
    assert "Noted." not in response.text
