"""Time as the services read it: an injected clock, and a pause that a stop cuts short."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


async def pause(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` unless asked to stop meanwhile; whether stopping was asked."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
    return stopping.is_set()
