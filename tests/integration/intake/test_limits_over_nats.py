"""The limits of opens and replies held across two intake replicas on one real NATS (each logged in as intake's
own user): they share one count exactly, a window passing lets more through, and an API key is counted apart
from its account. The replicas' clock is the tests' own, so an hour passes at once."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.commands import OpenTicket, PostReply
from hostdesk_contracts.directory import ApiKeyRecord, Scope
from hostdesk_contracts.subjects import Subjects
from hostdesk_intake.main import create_app
from hostdesk_intake.runtime import start
from hostdesk_intake.settings import Settings

from tests.support import BucketCallers, bearer, seed_bucket

from .conftest import SECRET
from .harness import StandIn

OPEN = {"subject": "Backups failed", "body": "The nightly backup of vps-88 failed."}
LIMIT = 4  # opens an hour, and replies a minute, per account
KEY_LIMIT = 6
HALF_PAST = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)


class Clock:
    def __init__(self) -> None:
        self.now = HALF_PAST

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def replica_settings(
    nats_url: str, declared_streams: Subjects, service_nats: Callable[[str], dict[str, str]]
) -> Callable[[], Settings]:
    def settings() -> Settings:
        return Settings(
            jwt_secret=SECRET,
            nats_url=nats_url,
            **service_nats("intake"),
            subject_root=declared_streams.root,
            instance=f"intake-limits-{uuid.uuid4().hex[:8]}",
            opens_per_account_per_hour=LIMIT,
            opens_per_key_per_hour=KEY_LIMIT,
            replies_per_account_per_minute=LIMIT,
        )

    return settings


@asynccontextmanager
async def replica(settings: Settings, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    """One intake replica on the real NATS, on the tests' clock, reached in process."""
    running = await start(settings, clock=clock)
    app = create_app(settings, runtime=running)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
            yield client
    finally:
        await running.stop()


@pytest.fixture
async def replicas(
    replica_settings: Callable[[], Settings], clock: Clock, stand_in: StandIn
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with replica(replica_settings(), clock) as one, replica(replica_settings(), clock) as other:
        yield one, other


async def opens_at_once(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient], headers: dict[str, str], count: int
) -> list[httpx.Response]:
    """``count`` opens sent at once, every other one to each replica."""
    return await asyncio.gather(
        *(replicas[n % 2].post("/v1/tickets", json=OPEN, headers=headers) for n in range(count))
    )


def codes(responses: list[httpx.Response]) -> list[int]:
    return sorted(response.status_code for response in responses)


async def stored_opens(stand_in: StandIn) -> int:
    """How many opens the commands stream holds: those the replicas sent, whoever answered them."""
    info = await stand_in.nc.jetstream().stream_info(stand_in.subjects.commands_stream)
    return info.state.messages


async def test_two_replicas_let_exactly_the_limit_of_opens_through_among_twice_as_many_at_once(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient], stand_in: StandIn, callers: BucketCallers, tenant: str
) -> None:
    customer = await callers.bearer(Actor(account_id="cust-77", tenant=tenant, role=Role.CUSTOMER), secret=SECRET)

    answers = await opens_at_once(replicas, customer, 2 * LIMIT)

    assert codes(answers) == [201] * LIMIT + [429] * LIMIT
    refused = [response for response in answers if response.status_code == 429]
    assert {response.headers["Retry-After"] for response in refused} == {"1800"}  # half past: the hour ends in 30 min
    assert {response.headers["content-type"] for response in refused} == {"application/problem+json"}
    assert await stored_opens(stand_in) == LIMIT
    assert sum(isinstance(command, OpenTicket) for command in stand_in.handled) == LIMIT


async def test_the_next_hour_lets_as_many_opens_through_again_on_either_replica(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient],
    stand_in: StandIn,
    callers: BucketCallers,
    tenant: str,
    clock: Clock,
) -> None:
    customer = await callers.bearer(Actor(account_id="cust-78", tenant=tenant, role=Role.CUSTOMER), secret=SECRET)
    await opens_at_once(replicas, customer, LIMIT + 1)

    clock.now += timedelta(hours=1)
    answers = await opens_at_once(replicas, customer, 2 * LIMIT)

    assert codes(answers) == [201] * LIMIT + [429] * LIMIT
    assert await stored_opens(stand_in) == 2 * LIMIT


async def test_replies_are_limited_by_the_minute_across_the_replicas(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient],
    stand_in: StandIn,
    callers: BucketCallers,
    tenant: str,
    clock: Clock,
) -> None:
    agent = await callers.bearer(Actor(account_id="agent-5", tenant=tenant, role=Role.AGENT), secret=SECRET)
    ticket = uuid.uuid4()

    async def replies(count: int) -> list[httpx.Response]:
        return await asyncio.gather(
            *(
                replicas[n % 2].post(f"/v1/tickets/{ticket}/replies", json={"body": f"On it ({n})."}, headers=agent)
                for n in range(count)
            )
        )

    first = await replies(2 * LIMIT)
    clock.now += timedelta(minutes=1)
    second = await replies(1)

    assert codes(first) == [201] * LIMIT + [429] * LIMIT
    assert {r.headers["Retry-After"] for r in first if r.status_code == 429} == {"60"}
    assert codes(second) == [201]
    assert sum(isinstance(command, PostReply) for command in stand_in.handled) == LIMIT + 1


async def test_an_api_key_and_its_account_are_counted_apart(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient], stand_in: StandIn, callers: BucketCallers, tenant: str
) -> None:
    account = await callers.bearer(Actor(account_id="cust-79", tenant=tenant, role=Role.CUSTOMER), secret=SECRET)
    key_id = f"mon{uuid.uuid4().hex[:12]}"
    key = f"hd_{key_id}_" + "k" * 43
    record = ApiKeyRecord(
        id=key_id,
        account_id="cust-79",
        label="Monitoring",
        scopes=(Scope.TICKETS_WRITE,),
        secret_sha256=hashlib.sha256(key.encode()).hexdigest(),
    )
    await seed_bucket(callers.js, callers.subjects, record)

    by_account = await opens_at_once(replicas, account, LIMIT + 2)
    by_key = await opens_at_once(replicas, bearer(key), KEY_LIMIT + 2)

    assert codes(by_account) == [201] * LIMIT + [429] * 2
    assert codes(by_key) == [201] * KEY_LIMIT + [429] * 2
    assert await stored_opens(stand_in) == LIMIT + KEY_LIMIT


async def test_a_retry_on_the_other_replica_of_an_accepted_open_is_not_counted_again(
    replicas: tuple[httpx.AsyncClient, httpx.AsyncClient], stand_in: StandIn, callers: BucketCallers, tenant: str
) -> None:
    customer = await callers.bearer(Actor(account_id="cust-80", tenant=tenant, role=Role.CUSTOMER), secret=SECRET)
    one, other = replicas
    first = await one.post("/v1/tickets", json=OPEN, headers=customer | {"Idempotency-Key": "alert-1"})

    retried = await other.post("/v1/tickets", json=OPEN, headers=customer | {"Idempotency-Key": "alert-1"})
    more = await opens_at_once(replicas, customer, LIMIT)

    assert (first.status_code, retried.status_code, retried.json()) == (201, 201, first.json())
    assert codes(more) == [201] * (LIMIT - 1) + [429]
    assert await stored_opens(stand_in) == LIMIT
