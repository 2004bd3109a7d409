"""A ticket's history comes a page of its timeline at a time, each page bounded (an in-memory event store)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hostdesk_contracts.base import Actor, Visibility
from hostdesk_contracts.commands import OpenTicket, PostReply
from hostdesk_tickets.api.schemas import position_of, timeline_cursor_of
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.service_layer.history import AsOf, Page, read_history

from .builders import CUSTOMER, STAFF, handle, open_command
from .serving import bearer
from .test_history import busy_ticket, run


def long_ticket(app: TicketsApplication, replies: int, *, body: str = "Checked again.") -> OpenTicket:
    """Opened, then ``replies`` public replies of staff, each after an internal note: the first answer also sets
    the status, so the requester sees ``replies + 2`` of its ``2 * replies + 2`` events."""
    opening = open_command()
    assert handle(app, opening).result == "committed"
    for turn in range(replies):
        run(app, PostReply, opening, STAFF, body=f"Note {turn}.", visibility=Visibility.INTERNAL)
        run(app, PostReply, opening, STAFF, body=f"{turn}: {body}")
    assert app.get_ticket(opening.ticket_id).version == 2 * replies + 2
    return opening


async def every_page(client: httpx.AsyncClient, path: str, caller: Actor, **params: object) -> list[dict[str, Any]]:
    """Every page of the timeline, following ``timeline_next_cursor`` to the last."""
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page_params = params | ({"timeline_cursor": cursor} if cursor else {})
        response = await client.get(path, params=page_params, headers=bearer(caller))
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if (cursor := response.json()["timeline_next_cursor"]) is None:
            return pages


def test_the_default_page_holds_a_hundred_entries_and_says_where_the_next_begins(app: TicketsApplication) -> None:
    opening = long_ticket(app, 60)  # 122 events

    first = read_history(app, opening.ticket_id, STAFF, AsOf())
    second = read_history(app, opening.ticket_id, STAFF, AsOf(), Page(after=first.next_after or 0))

    assert [entry.position for entry in first.timeline] == list(range(1, 101))
    assert first.next_after == 100
    assert [entry.position for entry in second.timeline] == list(range(101, 123))
    assert second.next_after is None


async def test_the_pages_of_either_side_hold_each_of_its_entries_once_in_order(
    app: TicketsApplication, client: httpx.AsyncClient
) -> None:
    opening = long_ticket(app, 10)  # 22 events, 12 of them the requester's
    path = f"/v1/tickets/{opening.ticket_id}/history"

    for_staff = await every_page(client, path, STAFF, timeline_limit=4)
    for_requester = await every_page(client, path, CUSTOMER, timeline_limit=4)

    assert [len(page["timeline"]) for page in for_staff] == [4, 4, 4, 4, 4, 2]
    assert [event["version"] for page in for_staff for event in page["timeline"]] == list(range(1, 23))
    assert [len(page["timeline"]) for page in for_requester] == [4, 4, 4]
    assert [entry["position"] for page in for_requester for entry in page["timeline"]] == list(range(1, 13))
    bodies = [entry.get("body") for page in for_requester for entry in page["timeline"]]
    assert [body for body in bodies if body and body[0].isdigit()] == [f"{turn}: Checked again." for turn in range(10)]


async def test_a_page_ends_once_its_bodies_reach_a_million_characters(
    app: TicketsApplication, client: httpx.AsyncClient
) -> None:
    opening = long_ticket(app, 110, body="x" * 19_990)  # 2.2 million characters the requester sees
    path = f"/v1/tickets/{opening.ticket_id}/history"

    pages = await every_page(client, path, CUSTOMER, timeline_limit=200)

    assert len(pages) == 3
    assert all(sum(len(entry.get("body", "")) for entry in page["timeline"]) < 1_020_000 for page in pages)
    assert [entry["position"] for page in pages for entry in page["timeline"]] == list(range(1, 113))


async def test_the_page_past_the_last_is_empty_and_the_last(app: TicketsApplication, client: httpx.AsyncClient) -> None:
    opening = busy_ticket(app)

    response = await client.get(
        f"/v1/tickets/{opening.ticket_id}/history",
        params={"timeline_cursor": timeline_cursor_of(7)},
        headers=bearer(STAFF),
    )

    assert response.status_code == 200
    assert (response.json()["timeline"], response.json()["timeline_next_cursor"]) == ([], None)


@pytest.mark.parametrize(
    "params",
    [
        {"timeline_limit": "0"},
        {"timeline_limit": "201"},
        {"timeline_cursor": "not a cursor"},
        {"timeline_cursor": "eyJwIjp0cnVlfQ"},  # {"p":true}
        {"timeline_cursor": "eyJwIjowfQ"},  # {"p":0}
        {"timeline_cursor": "A" * 500},
    ],
)
async def test_a_page_size_out_of_bounds_or_a_cursor_not_made_here_is_a_422_naming_it(
    app: TicketsApplication, client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    opening = busy_ticket(app)

    response = await client.get(f"/v1/tickets/{opening.ticket_id}/history", params=params, headers=bearer(STAFF))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [param["name"] for param in response.json()["invalid-params"]] == list(params)


def test_a_cursor_names_the_position_it_was_made_of() -> None:
    assert position_of(timeline_cursor_of(12_345)) == 12_345
