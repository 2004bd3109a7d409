"""A token bucket per account: a steady rate, with room for a burst. Time comes from an injected clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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
