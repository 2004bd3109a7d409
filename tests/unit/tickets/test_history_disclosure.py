"""What the requesting side may count in a ticket's history: its own entries, by their positions, and nothing of
the handling side's own events (an in-memory event store)."""

from __future__ import annotations

import httpx
from hostdesk_contracts.base import Actor, Assignee, Role, Visibility
from hostdesk_contracts.commands import AssignTicket, MergeTicket, OpenTicket, PostReply
from hostdesk_contracts.events import PostsMerged
from hostdesk_tickets.api.schemas import History, RequesterEntry
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.service_layer.history import AsOf, read_history

from .builders import CUSTOMER, STAFF, directory_of, handle, open_command
from .serving import bearer
from .test_history import busy_ticket, public_events, run

STAFF_WITH_ADDRESS = STAFF.model_copy(update={"email": "sam@provider.example"})


def answered_by_staff_with_an_address(app: TicketsApplication) -> OpenTicket:
    """v1 opened by the customer, v2 an internal note, v3-4 a public answer (and the status it sets), by staff whose
    token names an address."""
    opening = open_command()
    assert handle(app, opening).result == "committed"
    run(app, PostReply, opening, STAFF_WITH_ADDRESS, body="On the old plan.", visibility=Visibility.INTERNAL)
    run(app, PostReply, opening, STAFF_WITH_ADDRESS, body="Restarted the web server.", visibility=Visibility.PUBLIC)
    return opening


def test_the_requesters_entries_carry_their_positions_and_no_version_event_id_or_command(
    app: TicketsApplication,
) -> None:
    opening = busy_ticket(app)  # the requester sees v1, v3, v4 and v6 of seven

    answer = History.of(read_history(app, opening.ticket_id, CUSTOMER, AsOf()))

    entries = [entry.model_dump(mode="json") for entry in answer.timeline]
    assert all(isinstance(entry, RequesterEntry) for entry in answer.timeline)
    assert [entry["position"] for entry in entries] == [1, 2, 3, 4]
    assert all({"version", "event_id", "command_id"}.isdisjoint(entry) for entry in entries)
    assert "version" not in answer.model_dump()["ticket"]


def test_staff_are_shown_every_event_as_recorded_with_its_version_and_command(app: TicketsApplication) -> None:
    opening = busy_ticket(app)

    answer = History.of(read_history(app, opening.ticket_id, STAFF, AsOf()))

    assert answer.timeline == tuple(public_events(app, opening))
    assert [event.version for event in public_events(app, opening)] == list(range(1, 8))
    assert all(event.command_id for event in public_events(app, opening))


def test_the_requester_is_shown_the_staff_members_name_but_not_their_address(app: TicketsApplication) -> None:
    opening = answered_by_staff_with_an_address(app)

    for_requester = History.of(read_history(app, opening.ticket_id, CUSTOMER, AsOf())).model_dump(mode="json")
    for_staff = History.of(read_history(app, opening.ticket_id, STAFF, AsOf())).model_dump(mode="json")

    answer = next(entry for entry in for_requester["timeline"] if entry["type"] == "ticket.reply_posted.v1")
    assert (answer["body"], answer["actor"]["display_name"], answer["actor"]["email"]) == (
        "Restarted the web server.",
        "Sam",
        None,
    )
    assert for_requester["timeline"][0]["actor"]["email"] == CUSTOMER.email  # its own
    assert {entry["actor"]["email"] for entry in for_staff["timeline"][1:]} == {"sam@provider.example"}
    assert "sam@provider.example" not in str(for_requester)


def test_posts_merged_in_show_the_requester_no_staff_address(app: TicketsApplication) -> None:
    target, source = open_command(), open_command()
    handle(app, target)
    handle(app, source)
    run(app, PostReply, source, STAFF_WITH_ADDRESS, body="Same outage as the other one.")
    run(app, MergeTicket, source, STAFF, into_ticket_id=target.ticket_id)

    then = read_history(app, target.ticket_id, CUSTOMER, AsOf())

    merged = then.timeline[-1].event
    assert isinstance(merged, PostsMerged)
    assert [post.actor.email for post in merged.posts] == [CUSTOMER.email, None]
    assert "sam@provider.example" not in History.of(then).model_dump_json()


def test_a_version_asked_by_the_requester_counts_only_its_own_entries(app: TicketsApplication) -> None:
    opening = busy_ticket(app)
    events = public_events(app, opening)

    third = History.of(read_history(app, opening.ticket_id, CUSTOMER, AsOf(version=3)))

    assert [entry.model_dump()["type"] for entry in third.timeline] == [
        "ticket.opened.v1",
        "ticket.reply_posted.v1",
        "ticket.status_changed.v1",
    ]
    assert third.ticket.updated_at == events[3].occurred_at  # v4, the third entry it sees: not the assignment after


def test_the_requester_sees_nothing_of_what_the_handling_side_did_since_its_last_entry(
    app: TicketsApplication,
) -> None:
    opening = busy_ticket(app)
    run(app, AssignTicket, opening, STAFF, assignee=Assignee(account_id="agent-2", display_name="Kim"))
    events = public_events(app, opening)
    last_seen = events[5]  # v6, the priority change; v7 (tags) and v8 (assignment) are the handling side's

    now = History.of(read_history(app, opening.ticket_id, CUSTOMER, AsOf()))
    at_the_assignment = History.of(read_history(app, opening.ticket_id, CUSTOMER, AsOf(moment=events[-1].occurred_at)))

    assert events[-1].occurred_at > last_seen.occurred_at
    for answer in (now, at_the_assignment):
        assert answer.ticket.updated_at == last_seen.occurred_at
        assert len(answer.timeline) == 4


async def test_over_http_the_requesters_version_is_a_position_and_one_past_its_timeline_is_404(
    app: TicketsApplication, client: httpx.AsyncClient
) -> None:
    opening = busy_ticket(app)
    path = f"/v1/tickets/{opening.ticket_id}/history"

    second = await client.get(path, params={"version": 2}, headers=bearer(CUSTOMER))
    fifth = await client.get(path, params={"version": 5}, headers=bearer(CUSTOMER))
    staff_fifth = await client.get(path, params={"version": 5}, headers=bearer(STAFF))

    assert second.status_code == 200
    assert [entry["position"] for entry in second.json()["timeline"]] == [1, 2]
    assert second.json()["timeline"][-1]["body"] == "Restarted the web server."
    assert fifth.status_code == 404
    assert fifth.headers["content-type"] == "application/problem+json"
    assert "has no entry 5" in fifth.json()["detail"]
    assert staff_fifth.status_code == 200
    assert [entry["version"] for entry in staff_fifth.json()["timeline"]] == [1, 2, 3, 4, 5]


async def test_a_reseller_reading_a_ticket_it_requested_from_its_provider_is_its_requester(
    app: TicketsApplication, client: httpx.AsyncClient
) -> None:
    reseller = Actor(account_id="reseller-7", tenant="acme", role=Role.RESELLER)
    opening = open_command(reseller)
    assert handle(app, opening, directory_of(reseller)).result == "committed"
    run(app, PostReply, opening, STAFF, body="Noted.", visibility=Visibility.INTERNAL)

    response = await client.get(f"/v1/tickets/{opening.ticket_id}/history", headers=bearer(reseller))

    assert response.status_code == 200
    assert [entry["position"] for entry in response.json()["timeline"]] == [1]
    assert "version" not in response.json()["ticket"]
