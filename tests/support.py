"""Helpers every test suite shares: waiting with a deadline instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(condition: Callable[[], Awaitable[bool]], *, within: float = 30.0, every: float = 0.05) -> None:
    """Wait until ``condition()`` is true; fail the test if it is not within ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within:.0f}s")
        await asyncio.sleep(every)
