"""Opening tickets and posting replies past the caller's limit, over an in-memory bus and count: 429 with
``Retry-After``, and nothing recorded or sent; a retry of an accepted request is not counted again."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hostdesk_contracts.base import Role
from hostdesk_contracts.commands import OpenTicket, PostReply
from hostdesk_contracts.directory import ApiKeyRecord, Scope
from hostdesk_contracts.runtime.auth import TokenKeys, authenticate
from hostdesk_intake.adapters.fake_bus import FakeCommandBus
from hostdesk_intake.adapters.memory_counters import MemoryRateCounters
from hostdesk_intake.main import create_app
from hostdesk_intake.runtime import Runtime

from tests.support import bearer

from .serving import CALLERS, SECRET, settings, token_for

OPEN = {"subject": "VPS down", "body": "vps-1042 does not answer."}
REPLY = {"body": "Still down."}
KEY_ID = "monitoring07"
KEY = f"hd_{KEY_ID}_" + "m" * 43
QUARTER_PAST = datetime(2026, 3, 14, 9, 15, 0, tzinfo=UTC)
LIMITS = {
    "opens_per_account_per_hour": 2,
    "opens_per_key_per_hour": 3,
    "replies_per_account_per_minute": 2,
    "replies_per_key_per_minute": 3,
}


class Clock:
    def __init__(self) -> None:
        self.now = QUARTER_PAST

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def bus() -> FakeCommandBus:
    return FakeCommandBus()


@pytest.fixture
def counters() -> MemoryRateCounters:
    return MemoryRateCounters()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@asynccontextmanager
async def limited(bus: FakeCommandBus, counters: MemoryRateCounters, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings(**LIMITS)
    runtime = Runtime.over(bus, configured, directory=CALLERS.directory, clock=clock, counters=counters)
    app = create_app(configured, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield client


@pytest.fixture
async def client(bus: FakeCommandBus, counters: MemoryRateCounters, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    async with limited(bus, counters, clock) as client:
        yield client


def key_of(account_id: str) -> dict[str, str]:
    """The header of an API key (with ``tickets:write``) acting for ``account_id``, a customer of acme."""
    token_for(account_id)  # the key's account, in the directory
    CALLERS.directory.put(
        ApiKeyRecord(
            id=KEY_ID,
            account_id=account_id,
            label="Monitoring",
            scopes=(Scope.TICKETS_WRITE,),
            secret_sha256=hashlib.sha256(KEY.encode()).hexdigest(),
        )
    )
    return bearer(KEY)


async def test_past_its_opens_an_hour_an_account_gets_429_with_retry_after_and_nothing_is_sent(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    customer = token_for("cust-4101")
    accepted = [await client.post("/v1/tickets", json=OPEN, headers=customer) for _ in range(2)]

    refused = await client.post("/v1/tickets", json=OPEN, headers=customer | {"Idempotency-Key": "form-77"})

    assert [response.status_code for response in accepted] == [201, 201]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"] == str(45 * 60)  # 09:15, and the hour's window ends at 10:00
    problem = refused.json()
    assert (problem["type"], problem["limit"], problem["window_seconds"]) == (
        "urn:hostdesk:problem:rate-limited",
        2,
        3600,
    )
    assert "account may open 2 tickets an hour" in problem["detail"]
    assert len(bus.sent) == 2
    assert len(bus.records) == 2  # the refused request's Idempotency-Key left no record


async def test_past_its_replies_a_minute_an_account_gets_429_and_the_next_minute_lets_it_reply(
    client: httpx.AsyncClient, bus: FakeCommandBus, clock: Clock
) -> None:
    agent = token_for("agent-4102", role=Role.AGENT)
    opened = await client.post("/v1/tickets", json=OPEN, headers=token_for("cust-4102"))
    ticket = opened.json()["ticket_id"]
    replies = [await client.post(f"/v1/tickets/{ticket}/replies", json=REPLY, headers=agent) for _ in range(3)]
    clock.now += timedelta(seconds=60)

    later = await client.post(f"/v1/tickets/{ticket}/replies", json=REPLY, headers=agent)

    assert [response.status_code for response in replies] == [201, 201, 429]
    assert replies[2].headers["Retry-After"] == "60"
    assert "account may post 2 replies a minute" in replies[2].json()["detail"]
    assert later.status_code == 201
    assert sum(isinstance(command, PostReply) for command in bus.sent) == 3


async def test_an_hour_later_an_account_past_its_opens_may_open_again(client: httpx.AsyncClient, clock: Clock) -> None:
    customer = token_for("cust-4103")
    for _ in range(3):
        await client.post("/v1/tickets", json=OPEN, headers=customer)

    clock.now += timedelta(minutes=45)
    again = await client.post("/v1/tickets", json=OPEN, headers=customer)

    assert again.status_code == 201


async def test_a_retry_of_an_accepted_open_is_not_counted_again(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    customer = token_for("cust-4104")
    first = await client.post("/v1/tickets", json=OPEN, headers=customer | {"Idempotency-Key": "form-1"})

    retries = [
        await client.post("/v1/tickets", json=OPEN, headers=customer | {"Idempotency-Key": "form-1"}) for _ in range(3)
    ]
    second = await client.post("/v1/tickets", json=OPEN, headers=customer | {"Idempotency-Key": "form-2"})
    third = await client.post("/v1/tickets", json=OPEN, headers=customer | {"Idempotency-Key": "form-3"})

    assert first.status_code == 201
    assert [(response.status_code, response.json()) for response in retries] == [(201, first.json())] * 3
    assert second.status_code == 201
    assert third.status_code == 429
    assert len(bus.sent) == 2


async def test_a_key_reused_for_another_request_is_refused_before_it_counts(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    customer = token_for("cust-4105")
    await client.post("/v1/tickets", json=OPEN, headers=customer | {"Idempotency-Key": "form-9"})

    reused = await client.post(
        "/v1/tickets", json=OPEN | {"body": "Something else."}, headers=customer | {"Idempotency-Key": "form-9"}
    )
    second = await client.post("/v1/tickets", json=OPEN, headers=customer)

    assert reused.status_code == 422
    assert second.status_code == 201
    assert len(bus.sent) == 2


async def test_a_request_refused_for_its_body_is_not_counted(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    customer = token_for("cust-4106")
    invalid = [await client.post("/v1/tickets", json={"subject": ""}, headers=customer) for _ in range(3)]

    accepted = [await client.post("/v1/tickets", json=OPEN, headers=customer) for _ in range(2)]

    assert {response.status_code for response in invalid} == {422}
    assert [response.status_code for response in accepted] == [201, 201]


async def test_an_api_key_is_counted_apart_from_its_account_and_has_its_own_limit(
    client: httpx.AsyncClient, bus: FakeCommandBus
) -> None:
    key = key_of("cust-4107")
    account = token_for("cust-4107")
    by_account = [await client.post("/v1/tickets", json=OPEN, headers=account) for _ in range(3)]

    by_key = [await client.post("/v1/tickets", json=OPEN, headers=key) for _ in range(4)]

    assert [response.status_code for response in by_account] == [201, 201, 429]
    assert [response.status_code for response in by_key] == [201, 201, 201, 429]
    assert "API key may open 3 tickets an hour" in by_key[3].json()["detail"]
    assert {command.actor.account_id for command in bus.sent} == {"cust-4107"}  # the key acts for its account
    assert sum(isinstance(command, OpenTicket) for command in bus.sent) == 5


async def test_every_replica_shares_the_count(bus: FakeCommandBus, counters: MemoryRateCounters, clock: Clock) -> None:
    customer = token_for("cust-4108")
    async with limited(bus, counters, clock) as one, limited(bus, counters, clock) as other:
        answers = [await (one if n % 2 else other).post("/v1/tickets", json=OPEN, headers=customer) for n in range(4)]

    assert [response.status_code for response in answers] == [201, 201, 429, 429]


async def test_when_the_counts_cannot_be_reached_the_request_is_503_and_nothing_is_sent(
    client: httpx.AsyncClient, bus: FakeCommandBus, counters: MemoryRateCounters
) -> None:
    counters.reachable = False

    response = await client.post("/v1/tickets", json=OPEN, headers=token_for("cust-4109") | {"Idempotency-Key": "k"})

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert (bus.sent, bus.records) == ([], {})


async def test_other_commands_are_not_counted(client: httpx.AsyncClient, bus: FakeCommandBus) -> None:
    customer = token_for("cust-4110")
    opened = await client.post("/v1/tickets", json=OPEN, headers=customer)
    ticket = opened.json()["ticket_id"]

    closes = [await client.post(f"/v1/tickets/{ticket}/close", headers=customer) for _ in range(4)]

    assert {response.status_code for response in closes} == {200}


async def test_a_key_caller_is_known_by_its_key_and_a_token_caller_by_none() -> None:
    key = key_of("cust-4111")["Authorization"].removeprefix("Bearer ")
    token = token_for("cust-4111")["Authorization"].removeprefix("Bearer ")
    keys = TokenKeys(secret=SECRET)

    by_key = await authenticate(key, keys=keys, directory=CALLERS.directory)
    by_token = await authenticate(token, keys=keys, directory=CALLERS.directory)

    assert (by_key.key_id, by_key.actor.account_id) == (KEY_ID, "cust-4111")
    assert (by_token.key_id, by_token.actor) == (None, by_key.actor)
