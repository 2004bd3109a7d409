"""Requests waiting for their command's outcome, by command id: the other end of this instance's inbox."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from hostdesk_contracts.outcomes import CommandOutcome

from hostdesk_intake.adapters.command_bus import BusUnavailable


class OutcomeWaiters:
    """One future per command id, shared by every request waiting for it (the same key sent twice at once).

    Bounded: past ``limit`` waiting requests a new one is refused rather than let memory grow.
    """

    def __init__(self, *, limit: int) -> None:
        self._limit = limit
        self._futures: dict[str, asyncio.Future[CommandOutcome]] = {}
        self._waiting: dict[str, int] = {}
        self._total = 0

    def __len__(self) -> int:
        return self._total

    @contextmanager
    def waiting_for(self, command_id: str) -> Iterator[asyncio.Future[CommandOutcome]]:
        if self._total >= self._limit:
            raise BusUnavailable(f"{self._total} requests are already waiting for the tickets service")
        future = self._futures.get(command_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._futures[command_id] = future
        self._waiting[command_id] = self._waiting.get(command_id, 0) + 1
        self._total += 1
        try:
            yield future
        finally:
            self._total -= 1
            self._waiting[command_id] -= 1
            if self._waiting[command_id] == 0:
                del self._waiting[command_id]
                del self._futures[command_id]

    def resolve(self, outcome: CommandOutcome) -> bool:
        """Hand the outcome to whoever waits for it. An outcome nobody waits for (any more) is dropped."""
        future = self._futures.get(outcome.command_id)
        if future is None or future.done():
            return False
        future.set_result(outcome)
        return True
