"""How fast a read model is rebuilt from the event log: one more query process, with a schema and a durable
consumer of its own, replays the whole events stream.

Progress is followed on the consumer's acknowledgement floor, which costs PostgreSQL nothing (counting a
growing table every few milliseconds would load the very database being measured): query acknowledges an event
only after committing it, so when the floor reaches the stream's last message the read model has every event.
The rebuilt timeline's rows (one per event) are counted once at the end, as a check.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg
import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from hostdesk_devtools.bench.cpu import CpuMeter, cores
from hostdesk_devtools.bench.limits import start_process, stop_process
from hostdesk_devtools.bench.memory import PeakMemory
from hostdesk_devtools.bench.stage import Stage
from hostdesk_devtools.servers import free_port

POLL_SECONDS = 0.05
REBUILDER = "query (rebuild)"


@dataclass(frozen=True)
class Rebuild:
    events: int  # in the stream when the rebuild started
    applied: int  # rows in the rebuilt timeline at the end
    timed_events: int  # acknowledged after the first acknowledgement was seen...
    timed_seconds: float  # ...in this time: the rate, without the process's start-up
    seconds_from_start: float  # from the process start to the last acknowledgement, start-up included
    cpu_cores: dict[str, float] = field(default_factory=dict)  # by process, on average over the rebuild

    @property
    def rate(self) -> float:
        if self.timed_events > 0 and self.timed_seconds > 0:
            return self.timed_events / self.timed_seconds
        return self.applied / self.seconds_from_start if self.seconds_from_start > 0 else 0.0

    @property
    def complete(self) -> bool:
        return self.applied >= self.events


async def _acknowledged(js: JetStreamContext, stream: str, consumer: str, *, first_seq: int) -> int:
    """How many of the stream's messages the consumer has acknowledged, all of them in order."""
    try:
        info = await js.consumer_info(stream, consumer)
    except NotFoundError:  # not created yet
        return 0
    floor = info.ack_floor.stream_seq if info.ack_floor is not None else 0
    return max(0, (floor or 0) - first_seq + 1)


async def _timeline_rows(database_url: str, schema: str) -> int:
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        return int(await connection.fetchval(f'SELECT count(*) FROM "{schema}".timeline'))
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        return 0
    finally:
        await connection.close()


async def rebuild_read_model(stage: Stage, *, memory: PeakMemory, cpu: CpuMeter, within: float) -> Rebuild:
    schema = f"rebuild_{stage.stamp}"
    stream = stage.subjects.events_stream
    client = await nats.connect(stage.nats.url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = client.jetstream()
        state = (await js.stream_info(stream)).state
        events, first_seq = int(state.messages), int(state.first_seq)
        environment = {
            **stage.config.environment("query"),
            "QUERY_PORT": str(free_port()),
            "QUERY_DB_SCHEMA": schema,
            "QUERY_CONSUMER_NAME": schema,
            "QUERY_INSTANCE": schema,
        }
        process = await start_process(
            ["-m", "hostdesk_query"], log=stage.config.log_dir / "query-rebuild.log", env=environment
        )
        memory.watch(REBUILDER, process.pid)
        cpu.watch(REBUILDER, process.pid)
        before = cpu.snapshot()
        started = time.monotonic()
        first_at: float | None = None
        first_count = done = 0
        try:
            while done < events and time.monotonic() - started < within and process.returncode is None:
                await asyncio.sleep(POLL_SECONDS)
                done = await _acknowledged(js, stream, schema, first_seq=first_seq)
                if first_at is None and done > 0:
                    first_at, first_count = time.monotonic(), done
            finished = time.monotonic()
            used = cores(before, cpu.snapshot())
        finally:
            await stop_process(process)
    finally:
        await client.close()
    return Rebuild(
        events=events,
        applied=await _timeline_rows(stage.database_url, schema),
        timed_events=done - first_count,
        timed_seconds=0.0 if first_at is None else finished - first_at,
        seconds_from_start=finished - started,
        cpu_cores=used,
    )
