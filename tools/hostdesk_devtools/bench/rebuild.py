"""How fast a read model is rebuilt from the event log: one more query process, with a schema and a durable
consumer of its own, replays the whole events stream; we count its timeline rows (one per event) as they come.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg
import nats

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
    applied: int  # rows in the rebuilt timeline when it ended
    timed_events: int  # applied after the first rows were seen...
    timed_seconds: float  # ...in this time: the rate, without the process's start-up
    seconds_from_start: float  # from the process start to the end, its imports and connections included
    cpu_cores: dict[str, float] = field(default_factory=dict)  # by process, on average over the rebuild

    @property
    def rate(self) -> float:
        if self.timed_events > 0 and self.timed_seconds > 0:
            return self.timed_events / self.timed_seconds
        return self.applied / self.seconds_from_start if self.seconds_from_start > 0 else 0.0

    @property
    def complete(self) -> bool:
        return self.applied >= self.events


async def stream_messages(nats_url: str, stream: str) -> int:
    client = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        info = await client.jetstream().stream_info(stream)
        return int(info.state.messages)
    finally:
        await client.close()


async def _timeline_rows(connection: asyncpg.Connection, schema: str) -> int:
    try:
        return int(await connection.fetchval(f'SELECT count(*) FROM "{schema}".timeline'))
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        return 0


async def rebuild_read_model(stage: Stage, *, memory: PeakMemory, cpu: CpuMeter, within: float) -> Rebuild:
    events = await stream_messages(stage.nats.url, stage.subjects.events_stream)
    schema = f"rebuild_{stage.stamp}"
    environment = {
        **stage.config.environment("query"),
        "QUERY_PORT": str(free_port()),
        "QUERY_DB_SCHEMA": schema,
        "QUERY_CONSUMER_NAME": schema,
        "QUERY_INSTANCE": schema,
    }
    connection = await asyncpg.connect(stage.database_url, timeout=10)
    log = stage.config.log_dir / "query-rebuild.log"
    process = await start_process(["-m", "hostdesk_query"], log=log, env=environment)
    memory.watch(REBUILDER, process.pid)
    cpu.watch(REBUILDER, process.pid)
    before = cpu.snapshot()
    started = time.monotonic()
    first_at: float | None = None
    first_rows = 0
    rows = 0
    try:
        while rows < events and time.monotonic() - started < within and process.returncode is None:
            await asyncio.sleep(POLL_SECONDS)
            rows = await _timeline_rows(connection, schema)
            if first_at is None and rows > 0:
                first_at, first_rows = time.monotonic(), rows
        finished = time.monotonic()
        used = cores(before, cpu.snapshot())
    finally:
        await stop_process(process)
        await connection.close()
    return Rebuild(
        events=events,
        applied=rows,
        timed_events=rows - first_rows,
        timed_seconds=0.0 if first_at is None else finished - first_at,
        seconds_from_start=finished - started,
        cpu_cores=used,
    )
