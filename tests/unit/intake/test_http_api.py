"""The HTTP API over an in-memory command bus: status codes, headers and problems, with no server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from hostdesk_contracts.base import Actor, Role, Status
from hostdesk_contracts.commands import CloseTicket, CommandBase, OpenTicket, PostReply, ticket_id_for
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_intake.adapters.fake_bus import FakeCommandBus

from .builders import NOW, refused
from .serving import CALLERS, serving, token_for

OPEN = {"subject": "VPS down", "body": "vps-1042 does not answer."}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def bus() -> FakeCommandBus:
    return FakeCommandBus()


@pytest.fixture
def rate_clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(bus: FakeCommandBus, rate_clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(bus, monotonic=rate_clock, rate_limit_per_second=1, rate_limit_burst=20) as client:
        yield client


async def test_an_open_request_sends_one_command_stamped_with_the_caller_and_the_clock(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    response = await client.post("/v1/tickets", json=OPEN, headers=token_for())

    assert response.status_code == 201
    [command] = bus.sent
    assert isinstance(command, OpenTicket)
    assert (command.actor.account_id, command.actor.tenant, command.issued_at) == ("cust-1042", "acme", NOW)
    assert response.json()["ticket_id"] == str(ticket_id_for(command.command_id))


async def test_the_same_idempotency_key_twice_is_one_command_and_one_ticket(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    headers = token_for() | {"Idempotency-Key": "portal-form-8812"}

    first = await client.post("/v1/tickets", json=OPEN, headers=headers)
    second = await client.post("/v1/tickets", json=OPEN, headers=headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert len(bus.sent) == 1


async def test_the_same_idempotency_key_with_another_request_is_422_and_sends_nothing_more(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    opened = await client.post("/v1/tickets", json=OPEN, headers=token_for())
    replies = f"/v1/tickets/{opened.json()['ticket_id']}/replies"
    headers = token_for() | {"Idempotency-Key": "reply-form-1"}
    first = await client.post(replies, json={"body": "It is down again."}, headers=headers)

    again = await client.post(replies, json={"body": "It is down again."}, headers=headers)
    other = await client.post(replies, json={"body": "Something else entirely."}, headers=headers)

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert other.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in other.json()["detail"]
    assert len(bus.sent) == 2  # the open and the first reply


async def test_a_polled_outcome_answers_as_its_request_did(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    opened = await client.post("/v1/tickets", json=OPEN, headers=token_for())
    ticket = f"/v1/tickets/{opened.json()['ticket_id']}"
    replied = await client.post(f"{ticket}/replies", json={"body": "More."}, headers=token_for())
    closed = await client.post(f"{ticket}/close", headers=token_for())

    polled = [
        await client.get(f"/v1/commands/{r.json()['command_id']}", headers=token_for())
        for r in (opened, replied, closed)
    ]

    assert [r.status_code for r in polled] == [201, 201, 200]
    assert [r.status_code for r in (opened, replied, closed)] == [201, 201, 200]


async def test_if_match_becomes_the_expected_version_of_a_reply(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    opened = await client.post("/v1/tickets", json=OPEN, headers=token_for())
    ticket_id = opened.json()["ticket_id"]

    response = await client.post(
        f"/v1/tickets/{ticket_id}/replies", json={"body": "Still down."}, headers=token_for() | {"If-Match": '"1"'}
    )

    assert response.status_code == 201
    assert isinstance(bus.sent[-1], PostReply)
    assert bus.sent[-1].expected_version == 1


async def test_a_close_without_a_body_answers_200(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    opened = await client.post("/v1/tickets", json=OPEN, headers=token_for())

    response = await client.post(f"/v1/tickets/{opened.json()['ticket_id']}/close", headers=token_for())

    assert response.status_code == 200
    assert isinstance(bus.sent[-1], CloseTicket)
    assert response.json()["version"] == 2


async def test_a_reply_to_an_unknown_ticket_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/v1/tickets/{uuid.uuid4()}/replies", json={"body": "Hi"}, headers=token_for())

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_reply_to_a_closed_ticket_is_409_naming_its_status() -> None:
    def closed(command: CommandBase) -> CommandOutcome:
        return refused(command, Refusal.CONFLICT, current_status=Status.CLOSED)

    async with serving(FakeCommandBus(closed)) as client:
        response = await client.post(f"/v1/tickets/{uuid.uuid4()}/replies", json={"body": "Hi"}, headers=token_for())

    assert response.status_code == 409
    assert response.json()["current_status"] == "closed"


async def test_a_command_not_decided_in_time_answers_202_and_its_link_answers_once_decided() -> None:
    pending_bus = FakeCommandBus(lambda command: None)
    async with serving(pending_bus) as client:
        accepted = await client.post("/v1/tickets", json=OPEN, headers=token_for())
        [command] = pending_bus.sent
        still_pending = await client.get(accepted.headers["Location"], headers=token_for())
        pending_bus.complete(
            CommandOutcome(
                command_id=command.command_id,
                account_id="cust-1042",
                ticket_id=command.ticket_id,
                result="committed",
                version=1,
                number=7,
            )
        )
        decided = await client.get(accepted.headers["Location"], headers=token_for())

    assert accepted.status_code == 202
    assert accepted.json() == {
        "command_id": command.command_id,
        "ticket_id": str(command.ticket_id),
        "status": "pending",
    }
    assert (still_pending.status_code, still_pending.headers["Retry-After"]) == (202, "1")
    assert decided.status_code == 201
    assert decided.json()["number"] == 7


async def test_another_accounts_command_outcome_is_404(client: httpx.AsyncClient) -> None:
    opened = await client.post("/v1/tickets", json=OPEN, headers=token_for())

    response = await client.get(f"/v1/commands/{opened.json()['command_id']}", headers=token_for("cust-2001"))

    assert response.status_code == 404


async def test_an_unreachable_bus_answers_503_with_retry_after(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    bus.reachable = False

    response = await client.post("/v1/tickets", json=OPEN, headers=token_for())
    readiness = await client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert readiness.status_code == 503
    assert readiness.json()["reasons"] == ["NATS is not reachable"]


async def test_past_the_burst_an_account_gets_429_with_retry_after(
    client: httpx.AsyncClient, rate_clock: Clock
) -> None:
    for _ in range(20):
        await client.get(f"/v1/commands/{uuid.uuid4()}", headers=token_for())

    limited = await client.get(f"/v1/commands/{uuid.uuid4()}", headers=token_for())
    other_account = await client.get(f"/v1/commands/{uuid.uuid4()}", headers=token_for("cust-2001"))
    rate_clock.now += 1.0
    later = await client.get(f"/v1/commands/{uuid.uuid4()}", headers=token_for())

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert other_account.status_code == 404  # served: an id never sent is no command of theirs
    assert later.status_code == 404


@pytest.mark.parametrize(
    ("headers", "invalid"),
    [({"Idempotency-Key": ""}, "Idempotency-Key"), ({"Idempotency-Key": "k" * 201}, "Idempotency-Key")],
)
async def test_a_bad_idempotency_key_is_422_naming_it(
    client: httpx.AsyncClient, headers: dict[str, str], invalid: str
) -> None:
    response = await client.post("/v1/tickets", json=OPEN, headers=token_for() | headers)

    assert response.status_code == 422
    assert invalid in [param["name"] for param in response.json()["invalid-params"]]


async def test_a_bad_if_match_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/v1/tickets/{uuid.uuid4()}/close", headers=token_for() | {"If-Match": "yesterday"})

    assert response.status_code == 422
    assert "If-Match" in [param["name"] for param in response.json()["invalid-params"]]


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200


async def test_a_retry_after_the_directory_names_the_caller_otherwise_is_the_same_request(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    def named(name: str, email: str) -> dict[str, str]:
        caller = Actor(account_id="cust-1042", tenant="acme", role=Role.CUSTOMER, display_name=name, email=email)
        return CALLERS.bearer(caller) | {"Idempotency-Key": "portal-form-9001"}

    first = await client.post("/v1/tickets", json=OPEN, headers=named("Ada", "ada@example.net"))
    retried = await client.post("/v1/tickets", json=OPEN, headers=named("Ada Lovelace", "ada@lovelace.example"))

    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert len(bus.sent) == 1


async def test_a_retry_whose_body_orders_its_fields_otherwise_is_the_same_request(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    headers = token_for() | {"Idempotency-Key": "portal-form-9002", "Content-Type": "application/json"}

    first = await client.post("/v1/tickets", content=b'{"subject": "VPS down", "body": "Down."}', headers=headers)
    retried = await client.post("/v1/tickets", content=b'{"body":"Down.","subject":"VPS down"}', headers=headers)

    assert (first.status_code, retried.status_code) == (201, 201)
    assert len(bus.sent) == 1


async def test_the_same_key_with_another_if_match_is_another_request(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    opened = await client.post("/v1/tickets", json=OPEN, headers=token_for())
    close = f"/v1/tickets/{opened.json()['ticket_id']}/close"
    headers = token_for() | {"Idempotency-Key": "close-7"}

    first = await client.post(close, headers=headers | {"If-Match": '"1"'})
    other = await client.post(close, headers=headers | {"If-Match": '"2"'})

    assert (first.status_code, other.status_code) == (200, 422)


async def test_a_command_id_never_sent_is_404_as_another_accounts_is(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/commands/{uuid.uuid4()}", headers=token_for())

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
