"""The limits of opens and replies over an in-memory count and a clock the tests move: how many a window lets
through, when the next goes, and whose count each caller is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_intake.adapters.memory_counters import MemoryRateCounters
from hostdesk_intake.domain.limits import Action, Counted, Quota, Quotas, Window, counter_key
from hostdesk_intake.service_layer.limits import Limiter, OverLimit

QUOTAS = Quotas(opens_per_account=3, opens_per_key=5, replies_per_account=2, replies_per_key=4)
CUSTOMER = Actor(account_id="cust-1042", tenant="acme", role=Role.CUSTOMER)
ACCOUNT = Counted.caller(CUSTOMER, key_id=None)
KEY = Counted.caller(CUSTOMER, key_id="monitoring01")
HOUR_START = datetime(2026, 3, 14, 9, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(HOUR_START + timedelta(minutes=20))


@pytest.fixture
def limiter(clock: Clock) -> Limiter:
    return Limiter(MemoryRateCounters(), QUOTAS, clock=clock)


async def admitted(limiter: Limiter, action: Action, counted: Counted, times: int) -> int:
    """How many of ``times`` requests the limiter lets through."""
    through = 0
    for _ in range(times):
        try:
            await limiter.admit(action, counted)
        except OverLimit:
            continue
        through += 1
    return through


async def test_an_account_opens_its_limit_in_an_hour_and_the_next_waits_for_the_hour_to_end(
    limiter: Limiter,
) -> None:
    assert await admitted(limiter, Action.OPEN, ACCOUNT, 3) == 3

    with pytest.raises(OverLimit) as refused:
        await limiter.admit(Action.OPEN, ACCOUNT)

    assert refused.value.retry_after == 40 * 60  # it is 09:20; the next window starts at 10:00
    assert (refused.value.quota.limit, refused.value.quota.window_seconds) == (3, 3600)
    assert refused.value.counted == ACCOUNT


async def test_the_next_window_lets_as_many_through_again(limiter: Limiter, clock: Clock) -> None:
    await admitted(limiter, Action.OPEN, ACCOUNT, 4)

    clock.now = HOUR_START + timedelta(hours=1)

    assert await admitted(limiter, Action.OPEN, ACCOUNT, 4) == 3


async def test_a_refused_request_is_not_counted(limiter: Limiter, clock: Clock) -> None:
    counters = MemoryRateCounters()
    limiter = Limiter(counters, QUOTAS, clock=clock)

    await admitted(limiter, Action.OPEN, ACCOUNT, 10)

    assert list(counters.counts.values()) == [3]


async def test_an_api_key_is_counted_apart_from_its_account_with_its_own_limit(limiter: Limiter) -> None:
    assert await admitted(limiter, Action.OPEN, ACCOUNT, 4) == 3

    assert await admitted(limiter, Action.OPEN, KEY, 6) == 5
    assert await admitted(limiter, Action.OPEN, ACCOUNT, 1) == 0


async def test_replies_are_counted_by_the_minute_apart_from_opens(limiter: Limiter, clock: Clock) -> None:
    clock.now = HOUR_START + timedelta(minutes=20, seconds=45)
    assert await admitted(limiter, Action.OPEN, ACCOUNT, 3) == 3
    assert await admitted(limiter, Action.REPLY, ACCOUNT, 2) == 2

    with pytest.raises(OverLimit) as refused:
        await limiter.admit(Action.REPLY, ACCOUNT)
    clock.now += timedelta(seconds=15)

    assert refused.value.retry_after == 15
    assert await admitted(limiter, Action.REPLY, ACCOUNT, 3) == 2
    assert await admitted(limiter, Action.REPLY, KEY, 5) == 4


async def test_the_same_account_id_in_two_tenants_is_two_counts(limiter: Limiter) -> None:
    elsewhere = Counted.caller(CUSTOMER.model_copy(update={"tenant": "globex"}), key_id=None)
    await admitted(limiter, Action.OPEN, ACCOUNT, 3)

    assert await admitted(limiter, Action.OPEN, elsewhere, 3) == 3


def test_callers_are_named_so_that_no_two_share_a_count_whatever_their_ids_hold() -> None:
    joined = Actor(account_id="b-c.* >", tenant="acme", role=Role.CUSTOMER)
    split = Actor(account_id="c.* >", tenant="acme-b", role=Role.CUSTOMER)
    window = Window.at(HOUR_START.timestamp(), seconds=3600)
    quota = Quota(action=Action.OPEN, limit=1, window_seconds=3600)

    names = {
        counter_key(quota, Counted.caller(joined, key_id=None), window),
        counter_key(quota, Counted.caller(split, key_id=None), window),
        counter_key(quota, Counted.caller(joined, key_id="b-c.* >"), window),
    }

    assert len(names) == 3
    assert all(name.replace(".", "").isalnum() for name in names)  # a key the bucket takes: no '*', '>' or space


def test_windows_start_on_the_hour_of_the_unix_clock_so_every_replica_agrees() -> None:
    first = Window.at(HOUR_START.timestamp(), seconds=3600)
    last = Window.at((HOUR_START + timedelta(minutes=59, seconds=59)).timestamp(), seconds=3600)
    next_one = Window.at((HOUR_START + timedelta(hours=1)).timestamp(), seconds=3600)

    assert first == last
    assert next_one.number == first.number + 1
    assert first.ends_at == (HOUR_START + timedelta(hours=1)).timestamp()


def test_a_quota_lets_at_least_one_request_through() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Quota(action=Action.OPEN, limit=0, window_seconds=3600)
