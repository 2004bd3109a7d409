"""A ticket as it was at a version or a moment, as each side may see it (an in-memory event store)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import httpx
import pytest
from hostdesk_contracts.base import Actor, Assignee, Priority, Role, Side, Status, Visibility
from hostdesk_contracts.commands import AssignTicket, MergeTicket, OpenTicket, PostReply, UpdateTicket
from hostdesk_contracts.events import EVENT_ADAPTER, AnyEvent, PostsMerged, TicketOpened
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.api.schemas import HandlerTicketState, History
from hostdesk_tickets.domain.disclosure import timeline_for
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.service_layer.history import AsOf, HistoryNotFound, read_history

from .builders import CUSTOMER, FOREIGN_STAFF, NOW, OTHER_CUSTOMER, STAFF, handle, new_id, open_command
from .serving import bearer


def run(app: TicketsApplication, kind: type, opening: OpenTicket, actor: Actor, **fields: object) -> None:
    outcome = handle(app, kind(command_id=new_id(), ticket_id=opening.ticket_id, actor=actor, issued_at=NOW, **fields))
    assert outcome.result == "committed", outcome.detail


def post(app: TicketsApplication, opening: OpenTicket, actor: Actor, body: str, **fields: object) -> None:
    run(app, PostReply, opening, actor, body=body, **fields)


def busy_ticket(app: TicketsApplication) -> OpenTicket:
    """v1 opened (tagged), v2 internal note, v3-4 answer, v5 assigned, v6-7 priority and tags."""
    opening = open_command().model_copy(update={"tags": ("vip",)})
    assert isinstance(opening, OpenTicket)
    assert handle(app, opening).result == "committed"
    post(app, opening, STAFF, "Customer is on the old plan.", visibility=Visibility.INTERNAL)
    post(app, opening, STAFF, "Restarted the web server.")
    run(app, AssignTicket, opening, STAFF, assignee=Assignee(account_id="agent-1", display_name="Sam"))
    run(app, UpdateTicket, opening, STAFF, priority=Priority.HIGH, tags=("vip", "billing"))
    return opening


def public_events(app: TicketsApplication, opening: OpenTicket) -> list[AnyEvent]:
    return [EVENT_ADAPTER.validate_python(to_public(e)) for e in app.repository.event_store.get(opening.ticket_id)]


def history(app: TicketsApplication, opening: OpenTicket, caller: Actor, as_of: AsOf) -> History:
    """The answer for ``caller``: the use case's ticket and timeline, shaped for the caller's side."""
    return History.of(read_history(app, opening.ticket_id, caller, as_of))


def kinds(events: tuple[AnyEvent, ...] | list[AnyEvent]) -> list[str]:
    return [event.type.removeprefix("ticket.").removesuffix(".v1") for event in events]


# -- what each side is shown -------------------------------------------------------------------------------


def test_the_handling_side_is_shown_every_entry_as_recorded(app: TicketsApplication) -> None:
    events = public_events(app, busy_ticket(app))

    assert timeline_for(events, Side.HANDLER) == events


def test_the_requesting_side_is_shown_no_internal_note_tag_or_assignment(app: TicketsApplication) -> None:
    events = public_events(app, busy_ticket(app))

    shown = timeline_for(events, Side.REQUESTER)

    assert kinds(events) == [
        "opened",
        "reply_posted",
        "reply_posted",
        "status_changed",
        "assigned",
        "priority_changed",
        "tags_changed",
    ]
    assert kinds(shown) == ["opened", "reply_posted", "status_changed", "priority_changed"]
    assert all(getattr(event, "visibility", Visibility.PUBLIC) is Visibility.PUBLIC for event in shown)
    opened = shown[0]
    assert isinstance(opened, TicketOpened)
    assert (opened.tags, opened.subject) == ((), "Website down")


def test_the_requesting_side_is_shown_only_the_public_posts_merged_in(app: TicketsApplication) -> None:
    target, source = open_command(), open_command()
    handle(app, target)
    handle(app, source)
    post(app, source, STAFF, "Duplicate of the other one.", visibility=Visibility.INTERNAL)
    post(app, source, CUSTOMER, "Any news?")
    run(app, MergeTicket, source, STAFF, into_ticket_id=target.ticket_id)

    merged = public_events(app, target)[-1]
    (shown,) = timeline_for([merged], Side.REQUESTER)

    assert isinstance(merged, PostsMerged)
    assert isinstance(shown, PostsMerged)
    assert [post.visibility for post in merged.posts] == [Visibility.PUBLIC, Visibility.INTERNAL, Visibility.PUBLIC]
    assert [post.body for post in shown.posts] == ["example.com answers 502 since this morning.", "Any news?"]


# -- the ticket as it was ----------------------------------------------------------------------------------


def test_the_ticket_at_a_version_is_the_ticket_as_it_was_then(app: TicketsApplication) -> None:
    opening = busy_ticket(app)

    then = history(app, opening, STAFF, AsOf(version=4))
    now = history(app, opening, STAFF, AsOf())

    assert isinstance(then.ticket, HandlerTicketState)
    assert (then.ticket.version, then.ticket.status, then.ticket.priority) == (4, Status.ANSWERED, Priority.NORMAL)
    assert (then.ticket.tags, then.ticket.assignee) == (("vip",), None)
    assert [event.version for event in then.timeline] == [1, 2, 3, 4]
    assert isinstance(now.ticket, HandlerTicketState)
    assert (now.ticket.version, now.ticket.priority, now.ticket.tags) == (7, Priority.HIGH, ("vip", "billing"))
    assert now.ticket.assignee == Assignee(account_id="agent-1", display_name="Sam")
    assert now.ticket.created_at == then.ticket.created_at < now.ticket.updated_at


def test_the_ticket_at_a_moment_is_the_ticket_at_its_last_version_recorded_by_then(app: TicketsApplication) -> None:
    opening = busy_ticket(app)
    answer = public_events(app, opening)[3]

    at_answer = history(app, opening, STAFF, AsOf(moment=answer.occurred_at))

    assert at_answer.ticket.version == 4
    assert at_answer.ticket.status is Status.ANSWERED


def test_the_requester_is_shown_the_ticket_without_its_tags_and_assignee(app: TicketsApplication) -> None:
    opening = busy_ticket(app)

    answer = history(app, opening, CUSTOMER, AsOf())

    assert not isinstance(answer.ticket, HandlerTicketState)
    assert "tags" not in answer.model_dump()["ticket"]
    assert kinds(answer.timeline) == ["opened", "reply_posted", "status_changed", "priority_changed"]


@pytest.mark.parametrize("stranger", [OTHER_CUSTOMER, FOREIGN_STAFF])
def test_a_stranger_is_told_there_is_no_such_ticket(app: TicketsApplication, stranger: Actor) -> None:
    opening = busy_ticket(app)

    with pytest.raises(HistoryNotFound, match=f"There is no ticket {opening.ticket_id}"):
        read_history(app, opening.ticket_id, stranger, AsOf(version=1))


def test_a_ticket_that_does_not_exist_is_not_found(app: TicketsApplication) -> None:
    with pytest.raises(HistoryNotFound):
        read_history(app, uuid4(), STAFF, AsOf())


def test_a_version_the_ticket_has_not_reached_is_not_found(app: TicketsApplication) -> None:
    opening = busy_ticket(app)

    with pytest.raises(HistoryNotFound, match="is at version 7; it has no version 8"):
        read_history(app, opening.ticket_id, STAFF, AsOf(version=8))


def test_an_entry_past_the_requesters_own_timeline_is_not_found_naming_only_what_it_sees(
    app: TicketsApplication,
) -> None:
    opening = busy_ticket(app)

    with pytest.raises(HistoryNotFound, match="holds 4 entries; it has no entry 5") as missing:
        read_history(app, opening.ticket_id, CUSTOMER, AsOf(version=5))
    assert "version" not in str(missing.value)


def test_a_moment_before_the_ticket_was_opened_is_not_found(app: TicketsApplication) -> None:
    opening = busy_ticket(app)
    opened_at = public_events(app, opening)[0].occurred_at

    with pytest.raises(HistoryNotFound, match="did not exist yet"):
        read_history(app, opening.ticket_id, CUSTOMER, AsOf(moment=opened_at - timedelta(microseconds=1)))


# -- over HTTP ---------------------------------------------------------------------------------------------


async def test_the_requester_gets_the_ticket_without_the_handling_sides_fields(
    app: TicketsApplication, client: httpx.AsyncClient
) -> None:
    opening = busy_ticket(app)

    response = await client.get(f"/v1/tickets/{opening.ticket_id}/history", headers=bearer(CUSTOMER))

    assert response.status_code == 200
    ticket = response.json()["ticket"]
    assert "tags" not in ticket
    assert "assignee" not in ticket
    assert (ticket["status"], ticket["requester"]["account_id"]) == ("answered", "cust-1")
    assert "version" not in ticket
    assert [entry["type"] for entry in response.json()["timeline"]] == [
        "ticket.opened.v1",
        "ticket.reply_posted.v1",
        "ticket.status_changed.v1",
        "ticket.priority_changed.v1",
    ]


async def test_staff_get_the_tags_and_the_assignee(app: TicketsApplication, client: httpx.AsyncClient) -> None:
    opening = busy_ticket(app)

    response = await client.get(f"/v1/tickets/{opening.ticket_id}/history?version=5", headers=bearer(STAFF))

    assert response.status_code == 200
    ticket = response.json()["ticket"]
    assert (ticket["tags"], ticket["assignee"]["account_id"], ticket["version"]) == (["vip"], "agent-1", 5)
    assert len(response.json()["timeline"]) == 5


async def test_asking_for_both_a_version_and_a_moment_is_refused_naming_both(
    app: TicketsApplication, client: httpx.AsyncClient
) -> None:
    opening = busy_ticket(app)

    response = await client.get(
        f"/v1/tickets/{opening.ticket_id}/history",
        params={"version": 2, "at": NOW.isoformat()},
        headers=bearer(STAFF),
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {param["name"] for param in response.json()["invalid-params"]} == {"version", "at"}


@pytest.mark.parametrize("params", [{"at": "2026-11-22T09:00:00"}, {"at": "yesterday"}, {"version": "0"}])
async def test_a_moment_without_its_offset_or_a_version_below_one_is_refused(
    app: TicketsApplication, client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    opening = busy_ticket(app)

    response = await client.get(f"/v1/tickets/{opening.ticket_id}/history", params=params, headers=bearer(STAFF))

    assert response.status_code == 422
    assert [param["name"] for param in response.json()["invalid-params"]] == list(params)


async def test_no_history_without_a_bearer_token(app: TicketsApplication, client: httpx.AsyncClient) -> None:
    opening = busy_ticket(app)

    response = await client.get(f"/v1/tickets/{opening.ticket_id}/history")

    assert response.status_code == 401


async def test_a_stranger_gets_404_problem(app: TicketsApplication, client: httpx.AsyncClient) -> None:
    opening = busy_ticket(app)
    stranger = Actor(account_id="cust-3", tenant="acme", role=Role.CUSTOMER)

    response = await client.get(f"/v1/tickets/{opening.ticket_id}/history", headers=bearer(stranger))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
