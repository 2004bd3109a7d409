"""A phase of load (wrk against intake, at full speed or at an offered rate), and the wait before each phase
until the system has worked off what the one before left behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nats
from hostdesk_contracts.subjects import Subjects
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from hostdesk_devtools.bench.stats import LoadSummary, Second, per_second, summarize
from hostdesk_devtools.bench.wrk import Request, WrkRun, run_wrk

POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Phase:
    name: str
    kind: str  # "opens" or "replies"
    offered_rate: float | None  # None: at saturation
    started_at: float  # monotonic: the first request's
    run: WrkRun
    summary: LoadSummary
    seconds: list[Second]
    left_behind: dict[str, int] = field(default_factory=dict)  # per consumer, not yet acknowledged at the end
    drain_seconds: float = 0.0  # how long the system then took to work that off
    cpu_cores: dict[str, float] = field(default_factory=dict)  # by process, on average over the phase


@dataclass(frozen=True)
class Backlog:
    events: int  # stored in the events stream
    pending: dict[str, int]  # per durable consumer (of commands or events): delivered or not, not yet acked

    @property
    def empty(self) -> bool:
        return not any(self.pending.values())


async def backlog(js: JetStreamContext, subjects: Subjects) -> Backlog:
    pending: dict[str, int] = {}
    events = 0
    for stream in (subjects.commands_stream, subjects.events_stream):
        try:
            consumers = await js.consumers_info(stream)
            info = await js.stream_info(stream)
        except NotFoundError:
            continue
        for consumer in consumers:
            pending[consumer.name] = (consumer.num_pending or 0) + (consumer.num_ack_pending or 0)
        if stream == subjects.events_stream:
            events = int(info.state.messages)
    return Backlog(events=events, pending=pending)


@dataclass(frozen=True)
class Settled:
    left: dict[str, int]  # the backlog per consumer when the wait began
    seconds: float


async def quiesce(nats_url: str, subjects: Subjects, *, within: float) -> Settled:
    """Wait until every consumer has acknowledged everything and the relay has stopped adding events (two
    looks in a row), at most ``within`` seconds."""
    client = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    started = time.monotonic()
    try:
        js = client.jetstream()
        first = last = await backlog(js, subjects)
        while time.monotonic() - started < within:
            await asyncio.sleep(POLL_SECONDS)
            now = await backlog(js, subjects)
            if now.empty and now == last:
                break
            last = now
    finally:
        await client.close()
    return Settled(left=first.pending, seconds=time.monotonic() - started)


async def load_phase(
    name: str,
    kind: str,
    *,
    url: str,
    requests: Sequence[Request],
    folder: Path,
    connections: int,
    seconds: float,
    rate: float | None = None,
    keep_ids: int = 0,
) -> Phase:
    # Bounded in requests too: twice what the offered rate would send, or far more than any figure here.
    most = int(seconds * (2 * rate if rate else 20_000))
    run = await run_wrk(
        url,
        requests,
        folder=folder,
        connections=connections,
        seconds=seconds,
        rate=rate,
        max_requests=most,
        keep_ids=keep_ids,
    )
    started = run.samples[0].sent_at if run.samples else time.monotonic() - run.seconds
    return Phase(
        name=name,
        kind=kind,
        offered_rate=rate,
        started_at=started,
        run=run,
        summary=summarize(run.samples, seconds=run.seconds, extra_failures=run.socket_errors),
        seconds=per_second(run.samples, start=started, seconds=run.seconds),
    )
