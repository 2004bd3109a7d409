"""The tickets service answers a ticket as it was at a version or a moment, rebuilt from PostgreSQL (through a
snapshot once there is one), as the caller's side may see it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest
from hostdesk_contracts.base import Actor, Assignee, Priority, Role, Status, Visibility
from hostdesk_contracts.commands import AssignTicket, ChangeStatus, CommandBase, OpenTicket, PostReply, UpdateTicket
from hostdesk_contracts.runtime.clock import utc_now
from hostdesk_tickets.main import create_app
from hostdesk_tickets.runtime import start
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings

from tests.support import BucketCallers
from tests.unit.tickets.builders import CUSTOMER, NOW, STAFF, handle, new_id, open_command

ROUNDS = 14  # of six events each: past the snapshot taken at version 50


@asynccontextmanager
async def tickets_service(
    settings: Settings, *, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[httpx.AsyncClient]:
    """The whole tickets service (consumer, relay, auto-close, HTTP) for the test's schema and subject root, its
    auto-close on ``clock``."""
    running = await start(settings, clock=clock)
    try:
        app = create_app(settings, runtime=running)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://tickets") as client:
                yield client
    finally:
        await running.stop()


async def bearer(callers: BucketCallers, settings: Settings, actor: Actor) -> dict[str, str]:
    """The header of ``actor``, recorded in the directory first."""
    assert settings.jwt_secret is not None
    return await callers.bearer(actor, secret=settings.jwt_secret.get_secret_value())


class Story:
    """A ticket's long life, with what the ticket was after each command and the moment just after it."""

    def __init__(self, app: TicketsApplication) -> None:
        self.app = app
        self.opening: OpenTicket = open_command()
        self.states: dict[int, dict[str, Any]] = {}
        self.moments: list[tuple[datetime, int]] = []

    @property
    def ticket_id(self) -> UUID:
        return self.opening.ticket_id

    def run(self, command: CommandBase) -> None:
        outcome = handle(self.app, command)  # type: ignore[arg-type]
        assert outcome.result == "committed", outcome.detail
        ticket = self.app.get_ticket(self.ticket_id)
        self.states[ticket.version] = {
            "version": ticket.version,
            "status": ticket.status,
            "status_label": ticket.status_label,
            "priority": ticket.priority,
            "tags": list(ticket.tags),
            "assignee": ticket.assignee,
            "archived": ticket.archived,
        }
        self.moments.append((datetime.now(UTC), ticket.version))

    def act(self, kind: type[CommandBase], actor: Actor, **fields: Any) -> None:
        self.run(kind(command_id=new_id(), ticket_id=self.ticket_id, actor=actor, issued_at=NOW, **fields))

    def tell(self) -> None:
        self.run(self.opening)
        for turn in range(ROUNDS):
            self.act(PostReply, STAFF, body=f"Note {turn}: checked the logs.", visibility=Visibility.INTERNAL)
            self.act(PostReply, STAFF, body=f"Answer {turn}.")
            self.act(PostReply, CUSTOMER, body=f"Still broken ({turn}).")
            if turn % 3 == 0:
                self.act(AssignTicket, STAFF, assignee=Assignee(account_id=f"agent-{1 + (turn // 3) % 2}"))
            elif turn % 3 == 1:
                self.act(UpdateTicket, STAFF, tags=(f"round-{turn}",), priority=list(Priority)[turn % 4])
            else:
                self.act(ChangeStatus, STAFF, status=Status.IN_PROGRESS, status_label="Validation")


@pytest.fixture
async def story(tickets_app: TicketsApplication) -> Story:
    story = Story(tickets_app)
    await asyncio.to_thread(story.tell)
    return story


def state_in(answer: dict[str, Any]) -> dict[str, Any]:
    ticket = answer["ticket"]
    return {key: ticket.get(key) for key in ("version", "status", "status_label", "priority", "tags", "assignee")} | {
        "archived": ticket["archived"]
    }


def expected(story: Story, version: int) -> dict[str, Any]:
    state = dict(story.states[version])
    if state["assignee"] is not None:
        state["assignee"] = {"display_name": None, "email": None, **state["assignee"]}
    return state


async def test_the_ticket_at_a_version_is_the_ticket_it_was_then_before_and_after_its_snapshot(
    story: Story, tickets_app: TicketsApplication, tickets_settings: Settings, callers: BucketCallers
) -> None:
    current = max(story.states)
    snapshots = list(tickets_app.snapshots.get(story.ticket_id)) if tickets_app.snapshots else []
    versions = [v for v in sorted(story.states) if v in (1, 4, 5) or 45 <= v <= 56 or v == current]

    async with tickets_service(tickets_settings) as client:
        answers = {
            version: await client.get(
                f"/v1/tickets/{story.ticket_id}/history",
                params={"version": version},
                headers=await bearer(callers, tickets_settings, STAFF),
            )
            for version in versions
        }

    assert current > 60
    assert [snapshot.originator_version for snapshot in snapshots] == [50]
    for version, response in answers.items():
        assert response.status_code == 200, response.text
        assert state_in(response.json()) == expected(story, version)
        assert [entry["version"] for entry in response.json()["timeline"]] == list(range(1, version + 1))


async def test_the_ticket_at_a_moment_is_the_ticket_it_was_then(
    story: Story, tickets_settings: Settings, callers: BucketCallers
) -> None:
    samples = story.moments[::5] + story.moments[-1:]

    async with tickets_service(tickets_settings) as client:
        answers = [
            (
                version,
                await client.get(
                    f"/v1/tickets/{story.ticket_id}/history",
                    params={"at": moment.isoformat()},
                    headers=await bearer(callers, tickets_settings, STAFF),
                ),
            )
            for moment, version in samples
        ]
        before = await client.get(
            f"/v1/tickets/{story.ticket_id}/history",
            params={"at": "2020-01-01T00:00:00Z"},
            headers=await bearer(callers, tickets_settings, STAFF),
        )

    assert len(answers) > 10
    for version, response in answers:
        assert response.status_code == 200, response.text
        assert state_in(response.json()) == expected(story, version)
    assert before.status_code == 404
    assert "did not exist yet" in before.json()["detail"]


async def test_the_requester_sees_the_past_without_internal_notes_tags_or_assignment(
    story: Story, tickets_settings: Settings, callers: BucketCallers
) -> None:
    async with tickets_service(tickets_settings) as client:
        response = await client.get(
            f"/v1/tickets/{story.ticket_id}/history",
            params={"version": 55},
            headers=await bearer(callers, tickets_settings, CUSTOMER),
        )

    assert response.status_code == 200
    answer = response.json()
    kinds = {entry["type"] for entry in answer["timeline"]}
    assert kinds == {
        "ticket.opened.v1",
        "ticket.reply_posted.v1",
        "ticket.status_changed.v1",
        "ticket.priority_changed.v1",
    }
    assert all(entry.get("visibility", "public") == "public" for entry in answer["timeline"])
    assert "tags" not in answer["ticket"]
    assert "assignee" not in answer["ticket"]
    assert "version" not in answer["ticket"]  # its 55th entry; the log's versions are the handling side's


async def test_a_stranger_and_a_version_not_reached_get_404_problems(
    story: Story, tickets_settings: Settings, callers: BucketCallers
) -> None:
    stranger = Actor(account_id="cust-99", tenant="acme", role=Role.CUSTOMER)
    foreign_staff = Actor(account_id="agent-g1", tenant="globex", role=Role.AGENT)
    path = f"/v1/tickets/{story.ticket_id}/history"

    async with tickets_service(tickets_settings) as client:
        answers = [
            await client.get(path, headers=await bearer(callers, tickets_settings, stranger)),
            await client.get(
                path, params={"version": 1}, headers=await bearer(callers, tickets_settings, foreign_staff)
            ),
            await client.get(path, params={"version": 500}, headers=await bearer(callers, tickets_settings, STAFF)),
            await client.get(f"/v1/tickets/{new_id()}/history", headers=await bearer(callers, tickets_settings, STAFF)),
        ]

    assert [response.status_code for response in answers] == [404, 404, 404, 404]
    assert {response.headers["content-type"] for response in answers} == {"application/problem+json"}
    assert "version" not in answers[0].json()["detail"]  # a stranger learns nothing of the ticket
    assert "has no version 500" in answers[2].json()["detail"]
