"""Rate counts in this process's memory: for unit tests, and what a runtime over fakes counts with."""

from __future__ import annotations

from hostdesk_intake.adapters.rate_counters import CountersUnavailable


class MemoryRateCounters:
    """Every count in a dict, never forgotten (a test's windows are few). ``reachable = False`` plays NATS away."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.reachable = True

    async def take(self, key: str, *, limit: int) -> bool:
        if not self.reachable:
            raise CountersUnavailable("the counters are unreachable")
        count = self.counts.get(key, 0)
        if count >= limit:
            return False
        self.counts[key] = count + 1
        return True
