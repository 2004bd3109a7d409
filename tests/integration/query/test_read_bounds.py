"""The query service on real NATS and PostgreSQL answers hostile parameters with 422 problems naming them (never a
500), shows the requester positions instead of the log's versions, and serves a timeline in bounded pages."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import nats
import pytest
from hostdesk_contracts.base import Actor, Role, Visibility
from hostdesk_contracts.runtime.nats import ensure_streams
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.stories import TicketStory, account, every_kind_of_event
from hostdesk_query.settings import Settings

from tests.integration.query.test_query_service import SECRET, Service, at_version


@pytest.fixture
async def service(
    database_url: str, nats_url: str, subjects: Subjects, query_pool: asyncpg.Pool
) -> AsyncIterator[Service]:
    settings = Settings(
        DATABASE_URL=database_url,
        NATS_URL=nats_url,
        HOSTDESK_JWT_SECRET=SECRET,
        HOSTDESK_SUBJECT_ROOT=subjects.root,
        fetch_timeout_seconds=0.2,
        gap_retry_seconds=0.05,
        gap_retry_max_seconds=1.0,
        ack_wait_seconds=2.0,  # the waits of a gap (5.6 s in all) outlast two of these
    )
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    service = Service(settings=settings, js=js, pool=query_pool)
    try:
        await service.start()
        yield service
    finally:
        await service.stop()
        await js.delete_stream(subjects.events_stream)
        await js.delete_stream(subjects.commands_stream)
        await nc.close()


def b64(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def problem_names(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [param["name"] for param in response.json()["invalid-params"]]


async def every_page(service: Service, path: str, caller: Actor, **params: object) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        response = await service.get(path, caller, **params, **({"timeline_cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if (cursor := response.json()["timeline_next_cursor"]) is None:
            return pages


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
async def test_a_list_cursor_at_either_end_of_the_calendar_is_a_422_naming_it(
    service: Service, tenant: str, moment: str
) -> None:
    customer = account(tenant)
    cursor = b64({"o": "updated", "k": [moment, str(uuid.uuid4())]})

    response = await service.get("/v1/tickets", customer, cursor=cursor)

    assert problem_names(response) == ["cursor"]


async def test_a_list_cursor_at_the_first_moment_in_utc_is_a_page_like_any_other(service: Service, tenant: str) -> None:
    cursor = b64({"o": "updated", "k": ["0001-01-01T00:00:00+00:00", str(uuid.uuid4())]})

    response = await service.get("/v1/tickets", account(tenant), cursor=cursor)

    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize("assignee", ["a\x00b", "\x00"])
async def test_an_assignee_with_a_nul_is_a_422_naming_it(service: Service, tenant: str, assignee: str) -> None:
    response = await service.get("/v1/tickets", account(tenant, Role.AGENT), assignee=assignee)

    assert problem_names(response) == ["assignee"]


@pytest.mark.parametrize(
    "cursor",
    [
        b64({"o": "0001-01-01T00:00:00+05:00", "p": 1}),
        b64({"o": "9999-12-31T23:59:59-05:00", "p": 1}),
        b64({"o": "2026-01-05T09:00:00+00:00", "p": 2**63}),
    ],
)
async def test_a_timeline_cursor_out_of_range_is_a_422_naming_it(service: Service, tenant: str, cursor: str) -> None:
    customer = account(tenant)
    story = TicketStory(customer)
    await service.publish(story.opened())
    await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(1))

    response = await service.get(f"/v1/tickets/{story.ticket_id}", customer, timeline_cursor=cursor)

    assert problem_names(response) == ["timeline_cursor"]


async def test_the_requester_sees_positions_that_count_only_its_entries(service: Service, tenant: str) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story = TicketStory(customer)
    for event in (
        story.opened(),
        story.reply(agent, "Owes us for March.", visibility=Visibility.INTERNAL),
        story.assign(agent, agent),
        story.tags_change(agent, ("billing",)),
        story.reply(agent, "Restarted the host."),
    ):
        await service.publish(event)
    path = f"/v1/tickets/{story.ticket_id}"
    staffs = (await service.eventually(path, agent, at_version(5))).json()

    mine = (await service.get(path, customer)).json()

    assert [(entry["kind"], entry["position"]) for entry in mine["timeline"]] == [("opened", 1), ("post", 2)]
    assert all({"version", "part"}.isdisjoint(entry) for entry in mine["timeline"])
    assert mine["version"] == 5  # the ticket's own, for If-Match and min_version
    assert [(entry["position"], entry["version"]) for entry in staffs["timeline"]] == [(v, v) for v in range(1, 6)]


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_pages_of_a_timeline_with_merged_posts_hold_every_entry_once(
    service: Service, tenant: str, order: str
) -> None:
    lifecycle = every_kind_of_event(tenant)
    for event in lifecycle.events:
        await service.publish(event)
    path = f"/v1/tickets/{lifecycle.target.ticket_id}"
    await service.eventually(path, lifecycle.agent, at_version(lifecycle.target.version))

    for caller in (lifecycle.agent, lifecycle.requester):
        whole = (await service.get(path, caller, order=order, timeline_limit=200)).json()
        pages = await every_page(service, path, caller, order=order, timeline_limit=3)

        assert whole["timeline_next_cursor"] is None
        assert [entry for page in pages for entry in page["timeline"]] == whole["timeline"]
        assert max(len(page["timeline"]) for page in pages) == 3
        positions = sorted(entry["position"] for entry in whole["timeline"])
        assert positions == list(range(1, len(whole["timeline"]) + 1))


async def test_a_timeline_of_150_long_replies_comes_in_pages_of_about_a_megabyte(service: Service, tenant: str) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story = TicketStory(customer)
    await service.publish(story.opened())
    for turn in range(150):
        await service.publish(story.reply(agent if turn % 2 else customer, f"{turn:03d} " + "x" * 60_000))
    path = f"/v1/tickets/{story.ticket_id}"
    await service.eventually(path, customer, at_version(151))

    sizes: list[int] = []
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        response = await service.get(path, customer, **({"timeline_cursor": cursor} if cursor else {}))
        assert response.status_code == 200
        sizes.append(len(response.content))
        entries += response.json()["timeline"]
        if (cursor := response.json()["timeline_next_cursor"]) is None:
            break

    assert max(sizes) < 1_200_000
    assert len(sizes) == 9  # the opening and 17 replies, then 17 replies a page (60,004 characters each)
    assert [entry["position"] for entry in entries] == list(range(1, 152))
    assert [entry["body"][:3] for entry in entries[1:]] == [f"{turn:03d}" for turn in range(150)]
