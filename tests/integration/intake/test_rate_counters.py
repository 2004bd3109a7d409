"""The rate counters' port, the same behaviour from the in-memory fake and from the rates bucket on the real NATS
(as intake's own user): a count goes up to its limit and no further, each key on its own, and two replicas
counting at once never let more through than the limit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from hostdesk_contracts.runtime.nats import RATE_COUNTERS_TTL_SECONDS, connect, ensure_streams
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import Server
from hostdesk_intake.adapters.memory_counters import MemoryRateCounters
from hostdesk_intake.adapters.rate_counters import CountersUnavailable, KvRateCounters, RateCounters, lease_for
from nats.aio.client import Client


@pytest.fixture(params=["memory", "nats"])
async def replicas(
    request: pytest.FixtureRequest, nats_server: Server, declared_streams: Subjects
) -> AsyncIterator[tuple[RateCounters, RateCounters]]:
    """The counters of two replicas: one dict for both, or two connections of intake's user to one bucket."""
    if request.param == "memory":
        shared = MemoryRateCounters()
        yield shared, shared
        return
    connections = [await as_user(nats_server, "intake", name=f"rates-{n}") for n in range(2)]
    try:
        one, other = (
            KvRateCounters(_given(nc), bucket=declared_streams.rates_bucket, timeout=5.0) for nc in connections
        )
        yield one, other
    finally:
        for nc in connections:
            await nc.close()


def _given(nc: Client) -> Callable[[], Client]:
    return lambda: nc


async def as_user(nats_server: Server, service: str, *, name: str) -> Client:
    """A connection as the service's own user, with the inbox its permissions allow, as the service connects."""
    login = nats_server.service_settings(service)
    return await connect(nats_server.url, name=name, user=login["nats_user"], password=login["nats_password"])


def new_key() -> str:
    return f"open.3600.account.{uuid.uuid4().hex}.493218"


async def test_a_count_goes_up_to_its_limit_and_no_further(replicas: tuple[RateCounters, RateCounters]) -> None:
    one, other = replicas
    key = new_key()

    taken = [await (one if n % 2 else other).take(key, limit=3) for n in range(5)]

    assert taken == [True, True, True, False, False]


async def test_each_key_is_counted_on_its_own(replicas: tuple[RateCounters, RateCounters]) -> None:
    one, _ = replicas
    first, second = new_key(), new_key()
    await one.take(first, limit=1)

    assert await one.take(second, limit=1)
    assert not await one.take(first, limit=1)


async def test_two_replicas_counting_at_once_let_exactly_the_limit_through(
    replicas: tuple[RateCounters, RateCounters],
) -> None:
    one, other = replicas
    key, limit = new_key(), 8

    taken = await asyncio.gather(*(counters.take(key, limit=limit) for counters in (one, other) * limit))

    assert sum(taken) == limit


async def test_a_count_written_by_another_replica_is_read_before_writing_on_it(
    replicas: tuple[RateCounters, RateCounters],
) -> None:
    one, other = replicas
    key = new_key()
    await one.take(key, limit=3)  # ``one`` remembers the count at 1
    await other.take(key, limit=3)
    await other.take(key, limit=3)

    assert not await one.take(key, limit=3)


@pytest.fixture
async def kv_replicas(nats_server: Server, declared_streams: Subjects) -> AsyncIterator[list[KvRateCounters]]:
    """Two replicas' counters on the rates bucket, and (last) a connection to read the bucket itself."""
    connections = [await as_user(nats_server, "intake", name=f"rates-lease-{n}") for n in range(2)]
    try:
        yield [KvRateCounters(_given(nc), bucket=declared_streams.rates_bucket, timeout=5.0) for nc in connections]
    finally:
        for nc in connections:
            await nc.close()


async def counted(nats_server: Server, subjects: Subjects, key: str) -> int:
    nc = await as_user(nats_server, "intake", name="rates-reader")
    try:
        entry = await (await nc.jetstream().key_value(subjects.rates_bucket)).get(key)
        return int(entry.value or b"")
    finally:
        await nc.close()


def test_a_lease_is_one_request_under_a_limit_of_a_hundred_and_a_hundredth_of_what_is_left_above() -> None:
    assert [lease_for(limit, 0) for limit in (1, 20, 100, 199, 200, 10_000, 10**9)] == [1, 1, 1, 1, 2, 100, 100]
    assert lease_for(10_000, 9_950) == 1
    assert lease_for(10_000, 10_000) == 1  # at the limit, the count refuses before any lease is taken


async def test_under_a_high_limit_one_write_counts_a_lease_of_requests(
    kv_replicas: list[KvRateCounters], nats_server: Server, declared_streams: Subjects
) -> None:
    one, _ = kv_replicas
    key = new_key()

    taken = [await one.take(key, limit=10_000) for _ in range(100)]

    assert all(taken)
    assert await counted(nats_server, declared_streams, key) == 100  # one lease of 100: one write


async def test_two_replicas_leasing_at_once_never_let_more_than_the_limit_through(
    kv_replicas: list[KvRateCounters], nats_server: Server, declared_streams: Subjects
) -> None:
    one, other = kv_replicas
    key, limit = new_key(), 300  # leases of 3, then 2, then 1 as the count nears the limit

    taken = await asyncio.gather(*(counters.take(key, limit=limit) for counters in (one, other) * limit))

    assert await counted(nats_server, declared_streams, key) == limit
    assert limit - 2 * 2 <= sum(taken) <= limit  # at most each replica's last lease (of 2 or fewer) left unused


async def test_the_tickets_service_declares_the_bucket_as_its_own_user_and_intake_counts_in_it(
    nats_server: Server, subjects: Subjects
) -> None:
    tickets = await as_user(nats_server, "tickets", name="rates-declarer")
    intake = await as_user(nats_server, "intake", name="rates-counter")
    try:
        await ensure_streams(tickets.jetstream(), subjects)
        info = await tickets.jetstream().stream_info(f"KV_{subjects.rates_bucket}")
        counters = KvRateCounters(_given(intake), bucket=subjects.rates_bucket, timeout=5.0)
        taken = [await counters.take(new_key(), limit=1), await counters.take(new_key(), limit=1)]
    finally:
        await tickets.close()
        await intake.close()

    assert info.config.max_msgs_per_subject == 1
    assert info.config.max_age == RATE_COUNTERS_TTL_SECONDS == 7_200
    assert taken == [True, True]


async def test_without_a_connection_nothing_is_counted_and_the_counters_are_unavailable(
    declared_streams: Subjects,
) -> None:
    counters = KvRateCounters(lambda: None, bucket=declared_streams.rates_bucket, timeout=1.0)

    with pytest.raises(CountersUnavailable, match="not reachable"):
        await counters.take(new_key(), limit=1)


async def test_before_the_bucket_is_declared_the_counters_are_unavailable(
    nats_server: Server, subjects: Subjects
) -> None:
    nc = await as_user(nats_server, "intake", name="rates-early")
    try:
        counters = KvRateCounters(lambda: nc, bucket=subjects.rates_bucket, timeout=2.0)
        with pytest.raises(CountersUnavailable, match="not declared"):
            await counters.take(new_key(), limit=1)
    finally:
        await nc.close()
