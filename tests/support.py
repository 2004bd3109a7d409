"""Helpers every test suite shares: waiting with a deadline instead of sleeping; the relay's key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from hostdesk_contracts.signing import EventSigner

# ``HOSTDESK_EVENT_KEY`` of every service the tests start; tests that publish events as the relay sign with it.
EVENT_KEY = "test-event-key-0123456789abcdefghijklmnop"
RELAY_SIGNER = EventSigner(EVENT_KEY)


async def eventually(
    condition: Callable[[], Awaitable[bool]],
    *,
    within: float = 30.0,
    every: float = 0.05,
    what: str | Callable[[], str] = "condition met",
) -> None:
    """Wait until ``condition()`` is true; fail the test if it is not within ``within`` seconds, saying ``what``
    was awaited (a callable tells what it saw last)."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"not within {within:.0f}s: {said}")
        await asyncio.sleep(every)
