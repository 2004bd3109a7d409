"""The per-account token bucket, on a clock the test moves."""

from __future__ import annotations

import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.runtime.rate_limit import RateLimiter, account_key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_lets_a_burst_through_then_asks_to_wait() -> None:
    limiter = RateLimiter(rate=2, burst=3, clock=FakeClock())

    waits = [limiter.take("acme:cust-1") for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.5)


def test_tokens_come_back_at_the_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2, burst=1, clock=clock)
    limiter.take("acme:cust-1")

    clock.now += 0.5

    assert limiter.take("acme:cust-1") == 0.0


def test_a_refused_call_spends_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1, burst=1, clock=clock)
    limiter.take("acme:cust-1")
    limiter.take("acme:cust-1")  # refused

    clock.now += 1.0

    assert limiter.take("acme:cust-1") == 0.0


def test_the_bucket_never_holds_more_than_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=10, burst=2, clock=clock)
    limiter.take("acme:cust-1")

    clock.now += 3600
    waits = [limiter.take("acme:cust-1") for _ in range(3)]

    assert waits[:2] == [0.0, 0.0]
    assert waits[2] > 0


def test_each_account_has_its_own_bucket() -> None:
    limiter = RateLimiter(rate=1, burst=1, clock=FakeClock())
    limiter.take("acme:cust-1")

    assert limiter.take("acme:cust-2") == 0.0


def test_a_clock_stepping_back_earns_no_tokens() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1, burst=1, clock=clock)
    limiter.take("acme:cust-1")

    clock.now -= 60

    assert limiter.take("acme:cust-1") > 0


def test_past_its_capacity_the_least_recent_account_is_forgotten_and_starts_full() -> None:
    limiter = RateLimiter(rate=1, burst=1, clock=FakeClock(), max_keys=2)
    limiter.take("acme:cust-1")
    limiter.take("acme:cust-2")
    limiter.take("acme:cust-1")  # cust-1 is now the most recent, and refused

    limiter.take("acme:cust-3")

    assert limiter.take("acme:cust-1") > 0
    assert limiter.take("acme:cust-2") == 0.0


def test_each_tenant_and_account_has_a_bucket_of_its_own() -> None:
    keys = {
        account_key(Actor(account_id=account, tenant=tenant, role=Role.AGENT))
        for tenant, account in (("acme", "agent-1"), ("globex", "agent-1"), ("acme", "agent-2"), ("acme", "a:b"))
    }

    assert len(keys) == 4
