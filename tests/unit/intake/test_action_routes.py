"""The routes of a ticket's actions over an in-memory bus: who may call them, and what is refused unsent."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from hostdesk_contracts.base import Actor, Assignee, Role, Status
from hostdesk_contracts.commands import AssignTicket, ChangeStatus
from hostdesk_contracts.directory import Configuration
from hostdesk_intake.adapters.fake_bus import FakeCommandBus

from tests.support import bearer

from .serving import CALLERS, SECRET, serving, token_for

STAFF = token_for("agent-7", role=Role.AGENT)
CUSTOMER = token_for()
# What a token claiming the system could say: the claims count for nothing, and no directory entry is the system.
SYSTEM = bearer(jwt.encode({"sub": "hostdesk", "tenant": "acme", "role": "system", "exp": 4_102_444_800}, SECRET))
LABELS = {"*": {"Validation": "in_progress"}, "acme": {"Waiting on vendor": "on_hold"}}


@pytest.fixture
def bus() -> FakeCommandBus:
    return FakeCommandBus()


@pytest.fixture
async def client(bus: FakeCommandBus) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(bus, status_labels=LABELS) as client:
        yield client


async def opened(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/tickets", json={"subject": "VPS down", "body": "No ping."}, headers=CUSTOMER)
    ticket_id: str = response.json()["ticket_id"]
    return ticket_id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/tickets"),
        ("POST", "/v1/tickets/{id}/close"),
        ("POST", "/v1/tickets/{id}/resolve"),
        ("POST", "/v1/tickets/{id}/archive"),
        ("GET", "/v1/commands/{id}"),
        ("GET", "/v1/status-labels"),
    ],
)
async def test_a_token_claiming_the_system_role_is_refused_with_401(
    client: httpx.AsyncClient, bus: FakeCommandBus, method: str, path: str
) -> None:
    response = await client.request(method, path.format(id=uuid.uuid4()), headers=SYSTEM, json={})

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert bus.sent == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/pickup", None),
        ("PUT", "/assignee", {"account_id": "cust-1042"}),
        ("DELETE", "/assignee", None),
        ("POST", "/merge", {"into_ticket_id": str(uuid.uuid4())}),
    ],
)
async def test_assigning_and_merging_are_the_tickets_services_to_decide_by_the_callers_side(
    client: httpx.AsyncClient, bus: FakeCommandBus, method: str, path: str, body: dict[str, str] | None
) -> None:
    """Intake refuses no caller by its role: the account a ticket is addressed to handles it as its staff do, and
    only the tickets service knows which side a caller is on (the requester is refused there, anyone else told
    there is no such ticket)."""
    ticket_id = await opened(client)

    response = await client.request(method, f"/v1/tickets/{ticket_id}{path}", json=body, headers=CUSTOMER)

    assert response.status_code == 201, response.text  # the in-memory bus commits what it is sent
    assert len(bus.sent) == 2


async def test_staff_pick_up_a_ticket_for_themselves(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    ticket_id = await opened(client)

    response = await client.post(f"/v1/tickets/{ticket_id}/pickup", headers=STAFF | {"If-Match": "1"})

    assert response.status_code == 201
    command = bus.sent[-1]
    assert isinstance(command, AssignTicket)
    assert command.assignee == Assignee(account_id="agent-7")
    assert command.expected_version == 1


async def test_the_status_labels_are_those_of_the_callers_tenant(client: httpx.AsyncClient) -> None:
    acme = await client.get("/v1/status-labels", headers=CUSTOMER)
    globex = await client.get("/v1/status-labels", headers=token_for(tenant="globex"))

    assert acme.json() == {
        "tenant": "acme",
        "labels": [
            {"label": "Validation", "status": "in_progress"},
            {"label": "Waiting on vendor", "status": "on_hold"},
        ],
    }
    assert [known["label"] for known in globex.json()["labels"]] == ["Validation"]


async def test_a_status_label_of_the_callers_tenant_sets_its_status(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    ticket_id = await opened(client)

    response = await client.post(f"/v1/tickets/{ticket_id}/status", json={"label": "waiting on vendor"}, headers=STAFF)

    assert response.status_code == 201
    command = bus.sent[-1]
    assert isinstance(command, ChangeStatus)
    assert (command.status, command.status_label) == (Status.ON_HOLD, "Waiting on vendor")


async def test_another_tenants_label_is_a_422_naming_the_known_ones_and_nothing_is_sent(bus: FakeCommandBus) -> None:
    async with serving(bus, status_labels=LABELS) as client:
        response = await client.post(
            f"/v1/tickets/{uuid.uuid4()}/status",
            json={"label": "Waiting on vendor"},
            headers=token_for("agent-1", tenant="globex", role=Role.AGENT),
        )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [param["name"] for param in response.json()["invalid-params"]] == ["label"]
    assert response.json()["known_labels"] == [{"label": "Validation", "status": "in_progress"}]
    assert bus.sent == []


@pytest.mark.parametrize(
    ("method", "path", "body", "invalid"),
    [
        ("PATCH", "", {}, "body"),
        ("POST", "/status", {"status": "closed"}, "status"),
        ("POST", "/rating", {"rating": "unsatisfied"}, "comment"),
        ("POST", "/replies", {"body": "Note", "visibility": "internal", "status": "on_hold"}, "status"),
    ],
)
async def test_a_request_refused_by_its_own_rules_is_a_422_naming_the_field_and_nothing_is_sent(
    client: httpx.AsyncClient, bus: FakeCommandBus, method: str, path: str, body: dict[str, str], invalid: str
) -> None:
    response = await client.request(method, f"/v1/tickets/{uuid.uuid4()}{path}", json=body, headers=STAFF)

    assert response.status_code == 422
    assert invalid in [param["name"] for param in response.json()["invalid-params"]]
    assert bus.sent == []


async def test_merging_a_ticket_into_itself_is_a_422_and_nothing_is_sent(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    ticket_id = str(uuid.uuid4())

    response = await client.post(f"/v1/tickets/{ticket_id}/merge", json={"into_ticket_id": ticket_id}, headers=STAFF)

    assert response.status_code == 422
    assert [param["name"] for param in response.json()["invalid-params"]] == ["into_ticket_id"]
    assert bus.sent == []


async def test_a_bulk_archive_not_confirmed_is_a_422_and_nothing_is_sent(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    response = await client.post(
        "/v1/tickets/archive", json={"ticket_ids": [str(uuid.uuid4())], "confirm": False}, headers=STAFF
    )

    assert response.status_code == 422
    assert [param["name"] for param in response.json()["invalid-params"]] == ["confirm"]
    assert bus.sent == []


async def test_a_bulk_archive_that_cannot_be_stored_is_a_503_to_retry_with_the_same_key(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    bus.reachable = False

    response = await client.post(
        "/v1/tickets/archive", json={"ticket_ids": [str(uuid.uuid4())], "confirm": True}, headers=STAFF
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "Idempotency-Key" in response.json()["detail"]


async def test_a_bulk_archives_key_used_again_with_other_tickets_is_422_and_sends_nothing_more(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    headers = STAFF | {"Idempotency-Key": "console-bulk-9"}
    first = await client.post(
        "/v1/tickets/archive", json={"ticket_ids": [str(uuid.uuid4())], "confirm": True}, headers=headers
    )
    sent = len(bus.sent)

    other = await client.post(
        "/v1/tickets/archive", json={"ticket_ids": [str(uuid.uuid4())], "confirm": True}, headers=headers
    )
    polled = await client.get(f"/v1/commands/{first.json()['results'][0]['command_id']}", headers=STAFF)

    assert (first.status_code, other.status_code) == (200, 422)
    assert len(bus.sent) == sent
    # Each ticket's command is the caller's to poll: it answers what became of it (no such ticket, here).
    assert polled.json()["ticket_id"] == first.json()["results"][0]["ticket_id"]


async def test_the_labels_of_the_callers_organisation_come_from_its_configuration(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    staff = CALLERS.bearer(Actor(account_id="agent-lbl", tenant="acme", role=Role.AGENT, organisation_id="north-lbl"))
    CALLERS.directory.put(Configuration(organisation_id="north-lbl", status_labels={"Escalated": Status.IN_PROGRESS}))
    ticket_id = await opened(client)

    listed = await client.get("/v1/status-labels", headers=staff)
    response = await client.post(f"/v1/tickets/{ticket_id}/status", json={"label": "escalated"}, headers=staff)

    assert [known["label"] for known in listed.json()["labels"]] == ["Validation", "Waiting on vendor", "Escalated"]
    assert response.status_code == 201, response.text
    command = bus.sent[-1]
    assert isinstance(command, ChangeStatus)
    assert (command.status, command.status_label) == (Status.IN_PROGRESS, "Escalated")
