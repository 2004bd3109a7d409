"""A token bucket per account: a steady rate, with room for a burst. Time comes from an injected clock.

Every service's API counts each caller's requests the same way: ``RateLimitedActorDep`` (or, for a whole
router, ``Depends(rate_limited_actor)``) reads ``app.state.rate_limiter`` and answers 429 with ``Retry-After``
past the account's rate. An account is its tenant and its id together: the same id in two tenants is two
accounts. Each replica counts on its own, so N replicas let an account through N times the rate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from hostdesk_contracts.base import Actor
from hostdesk_contracts.runtime.auth import ActorDep
from hostdesk_contracts.runtime.problems import TooManyRequests


@dataclass(frozen=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Each key earns ``rate`` tokens a second, up to ``burst``; each call spends one.

    At most ``max_keys`` buckets are kept, the least recently used forgotten first: a forgotten account
    starts again with a full bucket, which errs on the side of letting callers through.
    """

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float], max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("a rate limit needs a positive rate, a burst of at least 1 and room for a key")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}  # in order of last use: dicts keep insertion order

    def take(self, key: str) -> float:
        """Spend a token of ``key``. Returns 0.0 when the call may go ahead, else the seconds to wait."""
        now = self._clock()
        bucket = self._buckets.pop(key, None)
        tokens = self._burst if bucket is None else self._refilled(bucket, now)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self._rate
        self._buckets[key] = _Bucket(tokens=tokens, updated=now)
        while len(self._buckets) > self._max_keys:
            del self._buckets[next(iter(self._buckets))]
        return wait

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        elapsed = max(0.0, now - bucket.updated)  # a clock that steps back earns nothing
        return min(self._burst, bucket.tokens + elapsed * self._rate)


def account_key(actor: Actor) -> str:
    """The key of the caller's bucket: tenant and account as a JSON pair, so no two accounts share one."""
    return json.dumps([actor.tenant, actor.account_id])


async def rate_limited_actor(request: Request, actor: ActorDep) -> Actor:
    """The authenticated caller, once its account's rate allows another request.

    Every service's ``create_app`` puts its limiter in ``app.state``; an app assembled by hand around a router
    (as unit tests of routes do) has none, and counts nothing.
    """
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return actor
    wait = limiter.take(account_key(actor))
    if wait > 0:
        raise TooManyRequests("This account sends requests faster than its rate limit.", retry_after_seconds=wait)
    return actor


RateLimitedActorDep = Annotated[Actor, Depends(rate_limited_actor)]
