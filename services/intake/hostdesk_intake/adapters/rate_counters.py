"""The port through which intake counts requests against a limit, shared by every replica, and its NATS adapter.

The counts are kept in the key-value bucket ``<ROOT>_RATES`` (which the tickets service declares, and intake
alone reads and writes), one key per caller, action and window (``domain.limits.counter_key``), its value the
count as decimal digits. A count goes up by compare-and-set: ``create`` for the first request of a window, then
``update`` naming the revision read; when another replica wrote in between, the write is refused, the count read
again and the step tried again, after a pause that grows with the steps lost, until the request's time is up. So
two replicas never both let the request past the limit through, and a count, once at its limit, refuses without a write.

A replica counts ahead: a step takes a lease of up to a hundredth of what is left under the limit (``lease_for``,
at most ``MAX_LEASE``) and lets that many requests through without another write. Under a limit of a hundred or
less (the default limits of an account's opens and replies), a lease is one request: every request is written.
Under a high limit (an API key's, an installation that lifts the limits) a write counts many requests, and what a
replica holds unused when its window ends was never let through: a caller is refused at most each replica's lease
early, never let past its limit.

When NATS cannot be reached, nothing is counted and the request is refused as unavailable (503): it could not
have been sent either, since commands travel on the same server, so failing closed costs the caller nothing a
moment of failing open would have given.
"""

from __future__ import annotations

import asyncio
import random
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from hostdesk_intake.adapters.command_bus import BusUnavailable

MAX_KNOWN = 10_000  # counts remembered from this replica's own writes and reads
FULL = 2**62  # what a value that is no count counts as: refuse, rather than let through uncounted
LOST_RACE_PAUSE = 0.001  # a lost step waits up to this many seconds, doubled with each step lost ...
MAX_LOST_RACE_PAUSE = 0.05  # ... up to this, before it reads the count again: the replicas drift apart
LEASE_SHARE = 100  # a lease is at most this fraction (1/LEASE_SHARE) of what is left under the limit ...
MAX_LEASE = 100  # ... and never more requests than this


class CountersUnavailable(BusUnavailable):
    """The counts cannot be read or written now: nothing was counted, and the caller should retry later."""


class RateCounters(Protocol):
    async def take(self, key: str, *, limit: int) -> bool:
        """Count one more request under ``key`` unless ``limit`` are counted there already: whether it was.

        Atomic over every replica: of any number of requests at once, never more than the limit leaves room for
        are counted; exactly as many under a limit of up to ``LEASE_SHARE`` (a higher one may refuse up to each
        replica's unused lease early). Raises ``CountersUnavailable``.
        """
        ...


def lease_for(limit: int, count: int) -> int:
    """How many requests one write counts, when ``count`` are counted under ``limit`` already: at least one, at
    most a hundredth of what is left (and ``MAX_LEASE``)."""
    return max(1, min(MAX_LEASE, (limit - count) // LEASE_SHARE))


@dataclass(frozen=True)
class _Seen:
    revision: int
    count: int  # counted in the bucket, this replica's lease included
    leased: int = 0  # of those, requests this replica may still let through without a write


class KvRateCounters:
    """The counts in the rates bucket, reached over a connection intake has made already (the command bus's).

    The latest revision and count this replica wrote or read under each key are remembered (at most
    ``max_known``), with what is left of its lease: a request under a lease is let through at once; the next
    writes on the remembered count and, when another replica wrote since, reads again. A remembered count at its
    limit refuses without a round trip: a count only goes up within its window.
    """

    def __init__(
        self,
        connection: Callable[[], Client | None],
        *,
        bucket: str,
        timeout: float,
        max_known: int = MAX_KNOWN,
    ) -> None:
        self._connection = connection
        self._bucket_name = bucket
        self._timeout = timeout
        self._max_known = max_known
        self._kv: KeyValue | None = None
        self._known: OrderedDict[str, _Seen] = OrderedDict()
        # One step at a time per key in this replica: its requests at once queue for the lease one of them takes,
        # instead of each losing the same race. A key's lock is gone once no request holds or awaits it.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def take(self, key: str, *, limit: int) -> bool:
        remembered = self._from_memory(key, limit)
        if remembered is not None:
            return remembered  # under this replica's lease, or at the limit: no round trip, no wait
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        try:
            async with asyncio.timeout(self._timeout), lock:
                return await self._take(await self._bucket(), key, limit)
        except (NatsError, TimeoutError) as error:
            raise CountersUnavailable(f"the rate counters cannot be reached ({type(error).__name__})") from error

    def _from_memory(self, key: str, limit: int) -> bool | None:
        """Let the request through under the lease this replica holds, or refuse it at a count remembered at the
        limit; ``None`` when a step on the bucket must decide."""
        seen = self._known.get(key)
        if seen is None:
            return None
        if seen.leased > 0:
            self._remember(key, _Seen(revision=seen.revision, count=seen.count, leased=seen.leased - 1))
            return True
        if seen.count >= limit:
            self._remember(key, seen)
            return False
        return None

    async def _take(self, kv: KeyValue, key: str, limit: int) -> bool:
        remembered = self._from_memory(key, limit)  # another request may have taken a lease while this one waited
        if remembered is not None:
            return remembered
        seen = self._known.get(key)
        lost = 0
        while True:  # until a step is won, or the request's time is up (``take``'s timeout)
            if seen is not None and seen.count >= limit:
                self._remember(key, seen)
                return False
            lease = lease_for(limit, 0 if seen is None else seen.count)
            count = lease if seen is None else seen.count + lease
            try:
                if seen is None:
                    revision = await kv.create(key, str(count).encode())
                else:
                    revision = await kv.update(key, str(count).encode(), last=seen.revision)
            except (KeyWrongLastSequenceError, KeyNotFoundError):
                # Another replica counted since (or the key expired between two looks): pause, read, try again.
                # The pause comes before the read, so that the count read is the one the next step writes on.
                lost += 1
                await asyncio.sleep(random.uniform(0, min(MAX_LOST_RACE_PAUSE, LOST_RACE_PAUSE * 2 ** min(lost, 8))))
                seen = await self._read(kv, key)
                continue
            self._remember(key, _Seen(revision=revision, count=count, leased=lease - 1))
            return True

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
