"""The fan-out of live changes (``domain.live``) to the streams of one replica.

The hub keeps the latest changes (``buffer`` of them) and every open stream. A stream that names the last change
it received is given every later change the hub still keeps before any new one, in one step of the event loop,
so that none is missed and none told twice; one whose last change is older than the oldest kept (or that the hub
has not read yet, on a replica started since) is told to read its lists again (``resync``) and then goes on.

A stream told nothing for a while is sent a ping (``ping_idle``, every ``QUERY_LIVE_PING_SECONDS``) through its
queue, so that a stream waiting for its next change holds no timer of its own (a thousand consoles, no thousand
timers rescheduled with every change).

Memory is bounded per stream: at most ``queue`` new changes (beside those replayed, at most ``buffer``) wait for
a client that reads slowly; one more and the stream ends (``overflowed``), and the client reconnects from its
last change. Each caller (tenant and account)
has at most ``per_caller`` streams open on a replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import defaultdict, deque

from hostdesk_contracts.access import Reach

from hostdesk_query.domain.live import LiveChange, told_to


class TooManyStreams(Exception):
    """The caller has as many streams open as it may."""


class Ping:
    """Nothing was told to the stream for a while: the client hears it is still there."""


PING = Ping()
Told = LiveChange | Ping | None  # None: the stream overflowed


class Stream:
    def __init__(self, reach: Reach, *, queue: int, replay: list[LiveChange], resync: bool) -> None:
        self.reach = reach
        self.resync = resync  # the changes since the client's last are no longer kept: it must read again
        self.overflowed = False
        self._limit = queue
        self._told = False  # since the last ping
        self._queue: asyncio.Queue[Told] = asyncio.Queue()
        for change in replay:
            self._queue.put_nowait(change)

    def offer(self, change: LiveChange) -> None:
        if self.overflowed or not told_to(self.reach, change):
            return
        self._told = True
        if self._queue.qsize() >= self._limit:
            self.overflowed = True
            self._queue.put_nowait(None)
            return
        self._queue.put_nowait(change)

    def ping(self) -> None:
        """A ping, unless the stream was told something since the last one (or has something waiting)."""
        if not self._told and self._queue.empty():
            self._queue.put_nowait(PING)
        self._told = False

    async def next(self) -> Told:
        """The next change for this stream, once there is one; a ping when idle; None once it overflowed.
        Cancelling the wait loses nothing."""
        return await self._queue.get()

    def waiting(self) -> list[Told]:
        """What is already waiting after the one ``next`` gave, up to the end of the stream (None)."""
        ready: list[Told] = []
        while not self._queue.empty() and (not ready or ready[-1] is not None):
            ready.append(self._queue.get_nowait())
        return ready


class LiveHub:
    def __init__(self, *, buffer: int, queue: int, per_caller: int) -> None:
        self._kept: deque[LiveChange] = deque(maxlen=buffer)
        self._queue = queue
        self._per_caller = per_caller
        # The open streams by tenant, held weakly: a stream whose response went away without closing it (a client
        # gone before its first byte) is forgotten with it.
        self._streams: defaultdict[str, weakref.WeakSet[Stream]] = defaultdict(weakref.WeakSet)
        # Every change after this sequence is kept (None: the hub has read nothing yet).
        self._kept_after: int | None = None
        self.last_seq = 0  # the last sequence the hub has read, change or not

    def started_at(self, seq: int) -> None:
        """The hub reads the events stream from ``seq``: the changes after ``seq - 1`` are all kept."""
        self._kept_after = seq - 1
        self.last_seq = max(self.last_seq, seq - 1)

    def passed(self, seq: int) -> None:
        """Sequence ``seq`` was read and holds no change to tell (no event, or of an unknown type)."""
        self.last_seq = max(self.last_seq, seq)

    def publish(self, change: LiveChange) -> None:
        if self._kept.maxlen is not None and len(self._kept) == self._kept.maxlen:
            self._kept_after = self._kept[0].seq
        self._kept.append(change)
        self.last_seq = max(self.last_seq, change.seq)
        for stream in self._streams.get(change.tenant, ()):
            stream.offer(change)

    def open(self, reach: Reach, *, after: int | None) -> Stream:
        """A stream of the changes ``reach`` may see, after sequence ``after`` (None: from now on), until
        ``close`` (or until nothing holds it any more). Raises ``TooManyStreams``."""
        held = self._streams[reach.tenant]
        if sum(1 for stream in held if stream.reach.account_id == reach.account_id) >= self._per_caller:
            raise TooManyStreams(f"at most {self._per_caller} live streams may be open at once")
        replay: list[LiveChange] = []
        resync = False
        if after is not None and after < self.last_seq:
            if self._kept_after is None or after < self._kept_after:
                resync = True
            else:
                replay = [change for change in self._kept if change.seq > after and told_to(reach, change)]
        opened = Stream(reach, queue=self._queue, replay=replay, resync=resync)
        held.add(opened)
        return opened

    def close(self, stream: Stream) -> None:
        self._streams[stream.reach.tenant].discard(stream)

    def ping_idle(self) -> None:
        """Ping every stream told nothing since the last call."""
        for streams in self._streams.values():
            for stream in list(streams):
                stream.ping()

    async def ping_idle_every(self, seconds: float, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=seconds)
            self.ping_idle()
