"""Whether a request may go ahead under its caller's limit (``domain.limits``), counted in the shared counts.

The limits of opening tickets and of posting replies hold across every replica of intake: each request of those
two is counted in the rates bucket before its command is recorded or sent (``dispatch``), and a request past the
limit is refused with the seconds until its window lets one more through, having recorded nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from hostdesk_contracts.runtime.clock import Clock

from hostdesk_intake.adapters.rate_counters import RateCounters
from hostdesk_intake.domain.limits import Action, Counted, Quota, Quotas, Window, counter_key


class OverLimit(Exception):
    """The caller has used its quota in this window; ``retry_after`` seconds until the next one."""

    def __init__(self, quota: Quota, counted: Counted, *, retry_after: float) -> None:
        super().__init__(f"{counted.kind} past {quota.limit} {quota.action.value}s in {quota.window_seconds} s")
        self.quota = quota
        self.counted = counted
        self.retry_after = retry_after


class Limiter:
    """The installation's quotas, counted in ``counters`` by the windows of ``clock`` (the wall clock: every
    replica must agree on the windows)."""

    def __init__(self, counters: RateCounters, quotas: Quotas, *, clock: Clock) -> None:
        self._counters = counters
        self._quotas = quotas
        self._clock = clock

    async def admit(self, action: Action, counted: Counted) -> None:
        """Count the request, or raise ``OverLimit`` (it is not counted then). Raises ``CountersUnavailable``."""
        quota = self._quotas.of(action, counted)
        now = self._clock().timestamp()
        window = Window.at(now, seconds=quota.window_seconds)
        if not await self._counters.take(counter_key(quota, counted, window), limit=quota.limit):
            raise OverLimit(quota, counted, retry_after=window.seconds_left(now))


@dataclass(frozen=True)
class Admission:
    """What one request is counted as: an ``action`` of ``counted``, under ``limiter``."""

    limiter: Limiter
    action: Action
    counted: Counted

    async def admit(self) -> None:
        await self.limiter.admit(self.action, self.counted)
