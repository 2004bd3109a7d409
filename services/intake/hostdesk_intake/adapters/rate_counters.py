"""The port through which intake counts requests against a limit, shared by every replica, and its NATS adapter.

The counts are kept in the key-value bucket ``<ROOT>_RATES`` (which the tickets service declares, and intake
alone reads and writes), one key per caller, action and window (``domain.limits.counter_key``), its value the
count as decimal digits. A count goes up by compare-and-set: ``create`` for the first request of a window, then
``update`` naming the revision read; when another replica wrote in between, the write is refused, the count read
again and the step tried again (``MAX_ATTEMPTS`` times at most). So two replicas never both let the request past
the limit through, and a count, once at its limit, refuses without a write.

When NATS cannot be reached, nothing is counted and the request is refused as unavailable (503): it could not
have been sent either, since commands travel on the same server, so failing closed costs the caller nothing a
moment of failing open would have given.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from hostdesk_intake.adapters.command_bus import BusUnavailable

MAX_ATTEMPTS = 20  # compare-and-set steps for one request; each lost one means another request was counted
MAX_KNOWN = 10_000  # counts remembered from this replica's own writes and reads
FULL = 2**62  # what a value that is no count counts as: refuse, rather than let through uncounted
LOST_RACE_PAUSE = 0.001  # up to this many seconds a lost step, times the steps lost, spreads the replicas apart


class CountersUnavailable(BusUnavailable):
    """The counts cannot be read or written now: nothing was counted, and the caller should retry later."""


class RateCounters(Protocol):
    async def take(self, key: str, *, limit: int) -> bool:
        """Count one more request under ``key`` unless ``limit`` are counted there already: whether it was.

        Atomic over every replica: of any number of requests at once, exactly as many as the limit leaves
        room for are counted. Raises ``CountersUnavailable``.
        """
        ...


@dataclass(frozen=True)
class _Seen:
    revision: int
    count: int


class KvRateCounters:
    """The counts in the rates bucket, reached over a connection intake has made already (the command bus's).

    The latest revision and count this replica wrote or read under each key are remembered (at most
    ``max_known``): the next request writes on them at once and, when another replica wrote since, reads
    again. A remembered count at its limit refuses without a round trip: a count only goes up within its window.
    """

    def __init__(
        self,
        connection: Callable[[], Client | None],
        *,
        bucket: str,
        timeout: float,
        max_attempts: int = MAX_ATTEMPTS,
        max_known: int = MAX_KNOWN,
    ) -> None:
        self._connection = connection
        self._bucket_name = bucket
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._max_known = max_known
        self._kv: KeyValue | None = None
        self._known: OrderedDict[str, _Seen] = OrderedDict()

    async def take(self, key: str, *, limit: int) -> bool:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._take(await self._bucket(), key, limit)
        except (NatsError, TimeoutError) as error:
            raise CountersUnavailable(f"the rate counters cannot be reached ({type(error).__name__})") from error

    async def _take(self, kv: KeyValue, key: str, limit: int) -> bool:
        seen = self._known.get(key)
        for attempt in range(self._max_attempts):
            if seen is not None and seen.count >= limit:
                self._remember(key, seen)
                return False
            count = 1 if seen is None else seen.count + 1
            try:
                if seen is None:
                    revision = await kv.create(key, b"1")
                else:
                    revision = await kv.update(key, str(count).encode(), last=seen.revision)
            except (KeyWrongLastSequenceError, KeyNotFoundError):
                # Another replica counted since (or the key expired between two looks): read, and try again.
                seen = await self._read(kv, key)
                if attempt > 0:
                    await asyncio.sleep(random.uniform(0, LOST_RACE_PAUSE * attempt))
                continue
            self._remember(key, _Seen(revision=revision, count=count))
            return True
        raise CountersUnavailable(f"the count {key} changed under each of {self._max_attempts} attempts")

    async def _read(self, kv: KeyValue, key: str) -> _Seen | None:
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:
            return None
        try:
            count = int(entry.value or b"")
        except ValueError:
            count = FULL
        return _Seen(revision=entry.revision or 0, count=count)

    def _remember(self, key: str, seen: _Seen) -> None:
        self._known[key] = seen
        self._known.move_to_end(key)
        while len(self._known) > self._max_known:
            self._known.popitem(last=False)

    async def _bucket(self) -> KeyValue:
        connection = self._connection()
        if connection is None or not connection.is_connected:
            raise CountersUnavailable("NATS is not reachable")
        if self._kv is None:
            try:
                self._kv = await connection.jetstream(timeout=self._timeout).key_value(self._bucket_name)
            except BucketNotFoundError as error:
                raise CountersUnavailable(
                    f"the rates bucket {self._bucket_name} is not declared yet (the tickets service declares it)"
                ) from error
        return self._kv
