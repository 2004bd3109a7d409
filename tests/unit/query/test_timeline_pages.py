"""A ticket's timeline comes a bounded page at a time, and its entries carry positions that count only what the
reader sees (the rules in ``domain.paging``, and the API over the in-memory read model)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hostdesk_contracts.access import reach_of
from hostdesk_contracts.base import Actor, Role, Visibility
from hostdesk_devtools.stories import TicketStory, account, every_kind_of_event
from hostdesk_query.adapters.memory import InMemoryReadModel
from hostdesk_query.domain.cursor import TimelineCursor
from hostdesk_query.domain.model import TicketView
from hostdesk_query.domain.paging import TimelineWindow, next_cursor, within_budget
from hostdesk_query.domain.projection import change_of
from hostdesk_query.domain.timeline import in_time_order
from hostdesk_query.domain.visibility import shows, side_on

from .serving import TENANT, Api


async def every_page(
    model: InMemoryReadModel, caller: Actor, ticket_id: Any, *, limit: int, newest_first: bool
) -> list[TicketView]:
    pages: list[TicketView] = []
    window = TimelineWindow(limit=limit)
    while True:
        view = await model.ticket_view(reach_of(caller), ticket_id, newest_first=newest_first, window=window)
        assert view is not None
        pages.append(view)
        if (after := next_cursor(view)) is None:
            return pages
        window = TimelineWindow(limit=limit, after=after)


async def test_the_requesters_positions_count_only_the_entries_it_sees() -> None:
    customer, agent = account(TENANT), account(TENANT, Role.AGENT)
    story = TicketStory(customer)
    model = InMemoryReadModel()
    events = [story.opened()]
    for turn in range(3):
        events += [story.reply(agent, f"Note {turn}", visibility=Visibility.INTERNAL), story.reply(agent, f"{turn}")]
    await model.apply([change_of(event) for event in events])

    mine = await model.ticket_view(reach_of(customer), story.ticket_id, newest_first=False)
    staffs = await model.ticket_view(reach_of(agent), story.ticket_id, newest_first=False)

    assert mine is not None
    assert staffs is not None
    assert mine.positions == (1, 2, 3, 4)
    assert [entry.version for entry in mine.timeline] == [1, 3, 5, 7]
    assert staffs.positions == tuple(range(1, 8))


@pytest.mark.parametrize("newest_first", [False, True])
@pytest.mark.parametrize("reader", ["requester", "agent"])
async def test_pages_hold_the_whole_timeline_once_in_time_order_merged_posts_in_place(
    newest_first: bool, reader: str
) -> None:
    lifecycle = every_kind_of_event(TENANT)
    model = InMemoryReadModel()
    await model.apply([change_of(event) for event in lifecycle.events])
    caller = getattr(lifecycle, reader)
    side = side_on(reach_of(caller), model.tickets[lifecycle.target.ticket_id])
    assert side is not None
    whole = [
        entry
        for entry in in_time_order(model.timeline[lifecycle.target.ticket_id].values(), newest_first=newest_first)
        if shows(side, entry)
    ]

    pages = await every_page(model, caller, lifecycle.target.ticket_id, limit=3, newest_first=newest_first)

    assert [entry for page in pages for entry in page.timeline] == whole
    assert all(len(page.timeline) <= 3 for page in pages)
    assert len(pages) == -(-len(whole) // 3)
    positions = sorted(position for page in pages for position in page.positions)
    assert positions == list(range(1, len(whole) + 1))


async def test_a_page_ends_after_the_entry_whose_body_reaches_the_budget() -> None:
    customer = account(TENANT)
    story = TicketStory(customer)
    model = InMemoryReadModel()
    await model.apply([change_of(story.opened())] + [change_of(story.reply(customer, "x" * 400)) for _ in range(9)])
    view = await model.ticket_view(reach_of(customer), story.ticket_id, newest_first=False)
    assert view is not None
    assert not view.more

    cut = within_budget(view, budget=1_000)

    assert len(cut.timeline) == 4  # the opening's few characters, then 400, 800, 1,200: the third reply reaches it
    assert cut.positions == (1, 2, 3, 4)
    assert cut.more
    assert next_cursor(cut) == TimelineCursor(occurred_at=cut.timeline[-1].occurred_at, position=4)


async def test_a_single_entry_over_the_budget_is_a_page_of_its_own() -> None:
    customer = account(TENANT)
    story = TicketStory(customer)
    model = InMemoryReadModel()
    await model.apply([change_of(story.opened(body="y" * 5_000))])
    view = await model.ticket_view(reach_of(customer), story.ticket_id, newest_first=False)
    assert view is not None

    assert within_budget(view, budget=1_000) == view
    assert next_cursor(within_budget(view, budget=1_000)) is None


# -- over HTTP ---------------------------------------------------------------------------------------------


async def test_the_requesters_entries_carry_positions_and_staffs_their_versions_too(api: Api) -> None:
    customer, agent = account(TENANT), account(TENANT, Role.AGENT)
    story = TicketStory(customer)
    await api.apply(
        story.opened(),
        story.reply(agent, "Refund later.", visibility=Visibility.INTERNAL),
        story.assign(agent, agent),
        story.reply(agent, "Restarted."),
    )

    mine = (await api.get(f"/v1/tickets/{story.ticket_id}", customer)).json()
    staffs = (await api.get(f"/v1/tickets/{story.ticket_id}", agent)).json()

    assert [entry["position"] for entry in mine["timeline"]] == [1, 2]
    assert all({"version", "part"}.isdisjoint(entry) for entry in mine["timeline"])
    assert mine["version"] == 4  # the ticket's own, which If-Match and min_version take
    assert [(entry["position"], entry["version"], entry["part"]) for entry in staffs["timeline"]] == [
        (1, 1, 0),
        (2, 2, 0),
        (3, 3, 0),
        (4, 4, 0),
    ]
    assert mine["timeline_next_cursor"] is None


async def test_the_default_page_holds_a_hundred_entries_and_the_cursor_the_rest(api: Api) -> None:
    customer, agent = account(TENANT), account(TENANT, Role.AGENT)
    story = TicketStory(customer)
    await api.apply(story.opened(), *(story.reply(agent, f"Answer {turn}") for turn in range(149)))
    path = f"/v1/tickets/{story.ticket_id}"

    first = (await api.get(path, customer)).json()
    second = (await api.get(path, customer, timeline_cursor=first["timeline_next_cursor"])).json()

    assert [entry["position"] for entry in first["timeline"]] == list(range(1, 101))
    assert [entry["position"] for entry in second["timeline"]] == list(range(101, 151))
    assert second["timeline_next_cursor"] is None


async def test_newest_first_pages_go_back_in_time(api: Api) -> None:
    customer = account(TENANT)
    story = TicketStory(customer)
    await api.apply(story.opened(), *(story.reply(customer, f"Ping {turn}") for turn in range(6)))
    path = f"/v1/tickets/{story.ticket_id}"

    first = (await api.get(path, customer, order="desc", timeline_limit=4)).json()
    second = (
        await api.get(path, customer, order="desc", timeline_limit=4, timeline_cursor=first["timeline_next_cursor"])
    ).json()

    assert [entry["position"] for entry in first["timeline"] + second["timeline"]] == [7, 6, 5, 4, 3, 2, 1]
    assert second["timeline_next_cursor"] is None


def _b64(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        _b64({"o": "2026-01-01T00:00:00+00:00", "p": 0}),
        _b64({"o": "0001-01-01T00:00:00+05:00", "p": 1}),  # before the first moment, once in UTC
        _b64({"o": "9999-12-31T23:59:59-05:00", "p": 1}),  # after the last
        _b64({"o": "2026-01-01T00:00:00+00:00", "p": True}),
        _b64({"o": "2026-01-01T00:00:00+00:00", "p": 2**63}),  # past PostgreSQL's bigint
        _b64({"o": "2026-01-01T00:00:00", "p": 1}),
    ],
)
async def test_a_timeline_cursor_not_made_here_is_a_422_naming_it(api: Api, cursor: str) -> None:
    customer = account(TENANT)
    story = TicketStory(customer)
    await api.apply(story.opened())

    response = await api.get(f"/v1/tickets/{story.ticket_id}", customer, timeline_cursor=cursor)

    assert response.status_code == 422
    assert [param["name"] for param in response.json()["invalid-params"]] == ["timeline_cursor"]
