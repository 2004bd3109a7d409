"""Every action on a ticket through intake and a stand-in tickets service over the real NATS: the command each
route stores, on which subject, and the answers the tickets service's outcomes become."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hostdesk_contracts.base import Actor, Assignee, Priority, Rating, Role, Status
from hostdesk_contracts.commands import (
    COMMAND_NAMES,
    ArchiveTicket,
    AssignTicket,
    ChangeStatus,
    CommandBase,
    MergeTicket,
    OpenTicket,
    PostReply,
    RateTicket,
    UpdateTicket,
)
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.subjects import Subjects
from hostdesk_intake.settings import Settings

from tests.support import BucketCallers, eventually
from tests.unit.intake.builders import refused

from .conftest import SECRET
from .harness import StandIn, commit, serving

TARGET = uuid.UUID("5f1c2a4e-9d3b-4e7f-8a6c-0b2d4e6f8a1c")


@dataclass(frozen=True)
class Action:
    method: str
    path: str
    body: dict[str, Any] | None
    expected: dict[str, Any]  # fields of the command it stores
    kind: type[CommandBase]


ACTIONS = {
    "reply with a label": Action(
        "POST",
        "/replies",
        {"body": "We are on it.", "status_label": "validation"},
        {"status": Status.IN_PROGRESS, "status_label": "Validation"},
        PostReply,
    ),
    "status by label": Action(
        "POST", "/status", {"label": "To do"}, {"status": Status.ON_HOLD, "status_label": "To do"}, ChangeStatus
    ),
    "status by name": Action(
        "POST",
        "/status",
        {"status": "in_progress", "reason": "Reinstalling"},
        {"status": Status.IN_PROGRESS, "reason": "Reinstalling"},
        ChangeStatus,
    ),
    "mark resolved": Action("POST", "/resolve", None, {"status": Status.RESOLVED}, ChangeStatus),
    "pick up": Action("POST", "/pickup", None, {"assignee": Assignee(account_id="agent-7")}, AssignTicket),
    "assign": Action(
        "PUT",
        "/assignee",
        {"account_id": "agent-9", "display_name": "Linus"},
        {"assignee": Assignee(account_id="agent-9", display_name="Linus")},
        AssignTicket,
    ),
    "unassign": Action("DELETE", "/assignee", None, {"assignee": None}, AssignTicket),
    "update": Action(
        "PATCH",
        "",
        {"priority": "high", "tags": ["vip"]},
        {"priority": Priority.HIGH, "tags": ("vip",), "department": None},
        UpdateTicket,
    ),
    "rate": Action(
        "POST",
        "/rating",
        {"rating": "unsatisfied", "comment": "Too slow."},
        {"rating": Rating.UNSATISFIED, "comment": "Too slow."},
        RateTicket,
    ),
    "archive": Action("POST", "/archive", None, {}, ArchiveTicket),
    "merge": Action("POST", "/merge", {"into_ticket_id": str(TARGET)}, {"into_ticket_id": TARGET}, MergeTicket),
}


@pytest.fixture
async def staff(tenant: str, callers: BucketCallers) -> dict[str, str]:
    return await callers.bearer(Actor(account_id="agent-7", tenant=tenant, role=Role.AGENT), secret=SECRET)


async def act(
    intake: httpx.AsyncClient, action: Action, ticket_id: uuid.UUID, headers: dict[str, str]
) -> httpx.Response:
    return await intake.request(
        action.method, f"/v1/tickets/{ticket_id}{action.path}", json=action.body, headers=headers
    )


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
async def test_each_action_stores_its_command_on_its_subject_and_answers_201_once_committed(
    intake: httpx.AsyncClient, stand_in: StandIn, staff: dict[str, str], subjects: Subjects, tenant: str, action: Action
) -> None:
    ticket_id = uuid.uuid4()

    response = await act(intake, action, ticket_id, staff | {"If-Match": 'W/"7"'})

    assert response.status_code == 201
    body = response.json()
    [command] = stand_in.handled
    assert body == {"command_id": command.command_id, "ticket_id": str(ticket_id), "number": 482913, "version": 2}
    assert isinstance(command, action.kind)
    assert (command.ticket_id, command.expected_version, command.actor.account_id) == (ticket_id, 7, "agent-7")
    assert {field: getattr(command, field) for field in action.expected} == action.expected
    assert stand_in.handled_subjects == [f"{subjects.root}.commands.{tenant}.{COMMAND_NAMES[action.kind]}"]


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
async def test_each_action_on_a_ticket_the_caller_may_not_see_is_a_404_problem(
    intake: httpx.AsyncClient, stand_in: StandIn, staff: dict[str, str], action: Action
) -> None:
    stand_in.decide = lambda command: refused(command, Refusal.NOT_FOUND)
    ticket_id = uuid.uuid4()

    response = await act(intake, action, ticket_id, staff)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["ticket_id"] == str(ticket_id)


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
async def test_each_action_the_tickets_status_forbids_is_a_409_problem_naming_the_status(
    intake: httpx.AsyncClient, stand_in: StandIn, staff: dict[str, str], action: Action
) -> None:
    stand_in.decide = lambda command: refused(
        command, Refusal.CONFLICT, current_status=Status.CLOSED, detail="Ticket #482913 is closed."
    )

    response = await act(intake, action, uuid.uuid4(), staff)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["current_status"] == "closed"
    assert "Ticket #482913 is closed." in response.json()["detail"]


async def test_an_opened_ticket_carries_its_category_and_tags(
    intake: httpx.AsyncClient, stand_in: StandIn, caller: dict[str, str]
) -> None:
    response = await intake.post(
        "/v1/tickets",
        json={"subject": "DNS", "body": "No MX record.", "category": "Domains", "tags": ["dns", "mail"]},
        headers=caller,
    )

    assert response.status_code == 201
    [command] = stand_in.handled
    assert isinstance(command, OpenTicket)
    assert (command.category, command.tags) == ("Domains", ("dns", "mail"))


ARCHIVED, OPEN_ONE, MISSING, SLOW = (uuid.uuid4() for _ in range(4))


def archive_outcomes(command: CommandBase) -> CommandOutcome:
    """The bulk archive's tickets as the tickets service would find them."""
    if command.ticket_id == OPEN_ONE:
        return refused(
            command, Refusal.CONFLICT, current_status=Status.OPEN, detail="Only answered or resolved tickets."
        )
    if command.ticket_id == MISSING:
        return refused(command, Refusal.NOT_FOUND)
    return commit(command)


async def test_a_bulk_archive_answers_what_became_of_each_ticket_in_request_order(
    intake_settings: Settings, stand_in: StandIn, staff: dict[str, str], subjects: Subjects, tenant: str
) -> None:
    stand_in.decide = archive_outcomes
    stand_in.held_tickets.add(SLOW)
    request = {"ticket_ids": [str(each) for each in (ARCHIVED, OPEN_ONE, MISSING, SLOW)], "confirm": True}

    async with serving(intake_settings.model_copy(update={"commit_wait_seconds": 3})) as intake:
        response = await intake.post("/v1/tickets/archive", json=request, headers=staff)
        results = response.json()["results"]
        await stand_in.release()
        slow_link = f"/v1/commands/{results[3]['command_id']}"
        polled: list[httpx.Response] = []

        async def slow_one_decided() -> bool:
            polled.append(await intake.get(slow_link, headers=staff))
            return polled[-1].status_code != 202

        await eventually(slow_one_decided, within=10)

    assert response.status_code == 200
    assert [(each["ticket_id"], each["result"]) for each in results] == [
        (str(ARCHIVED), "archived"),
        (str(OPEN_ONE), "refused"),
        (str(MISSING), "refused"),
        (str(SLOW), "pending"),
    ]
    assert results[0]["version"] == 2
    assert (results[1]["status"], results[1]["detail"]) == ("open", "Only answered or resolved tickets.")
    assert (results[2]["status"], results[2]["detail"]) == (None, "no such ticket")
    assert (polled[-1].status_code, polled[-1].json()["ticket_id"]) == (201, str(SLOW))  # as an archive answers
    assert all(isinstance(command, ArchiveTicket) for command in stand_in.handled)
    assert set(stand_in.handled_subjects) == {f"{subjects.root}.commands.{tenant}.archive"}


async def test_a_bulk_archive_sent_again_with_its_key_is_the_same_commands_applied_once(
    intake: httpx.AsyncClient, stand_in: StandIn, staff: dict[str, str], subjects: Subjects
) -> None:
    ticket_ids = [str(uuid.uuid4()) for _ in range(3)]
    headers = staff | {"Idempotency-Key": "console-bulk-archive-31"}
    request = {"ticket_ids": ticket_ids, "confirm": True}

    first = await intake.post("/v1/tickets/archive", json=request, headers=headers)
    again = await intake.post("/v1/tickets/archive", json=request, headers=headers)
    unkeyed = await intake.post("/v1/tickets/archive", json=request, headers=staff)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    command_ids = [each["command_id"] for each in first.json()["results"]]
    assert len(set(command_ids)) == 3
    assert {each["command_id"] for each in unkeyed.json()["results"]}.isdisjoint(command_ids)
    info = await stand_in.nc.jetstream().stream_info(subjects.commands_stream)
    assert info.state.messages == 6  # three from the keyed request, stored once; three from the unkeyed one
    assert {command.command_id for command in stand_in.handled[:3]} == set(command_ids)
