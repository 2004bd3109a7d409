"""How fast a read model is rebuilt from the event log: one more query process, with a schema and a consumer name
of its own, replays the whole events stream.

Its durable consumer does not exist yet, so the process catches up in bulk before creating it (see
``hostdesk_query.entrypoints.catchup``). The catch-up keeps one progress row, committed with each chunk: the
messages read, and by the database's clock the moment it began (lock taken, before its first read) and the
moment it handed over to the live consumer. The rate is those messages over that time, the process's start-up
apart. Reading that one row by its key every few milliseconds costs PostgreSQL nothing worth counting (counting
a growing table would load the very database being measured).

With ``live_path`` the consumer is made beforehand, as a replica that already has one finds it, and the process
replays the stream through the live path; progress is then followed on the consumer's acknowledgement floor
(query acknowledges an event only after committing it). Either way the rebuilt timeline's rows (one per event)
are counted once at the end, as a check that every event is in the read model.

``python -m hostdesk_devtools.bench.rebuild [--events N]`` measures both on one stream of synthetic events,
one after the other, and prints them side by side with their ratio (``make bench`` measures the catch-up on the
stream its load left).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import nats
from hostdesk_contracts import subjects as headers
from hostdesk_contracts.base import Role, Status
from hostdesk_contracts.events import AnyEvent
from hostdesk_contracts.runtime.nats import ensure_streams
from hostdesk_contracts.runtime.settings import ConsumerSettings
from hostdesk_contracts.signing import EventSigner
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from hostdesk_devtools.bench.cpu import MACHINE, NATS, POSTGRES, CpuMeter, cores
from hostdesk_devtools.bench.limits import start_process, stop_process
from hostdesk_devtools.bench.memory import PeakMemory
from hostdesk_devtools.bench.stage import Stage, close_stage, open_stage
from hostdesk_devtools.servers import free_port
from hostdesk_devtools.stories import TicketStory, account

POLL_SECONDS = 0.05
REBUILDER = "query (rebuild)"
RUN_DIR = Path(".run") / "bench"


@dataclass(frozen=True)
class Rebuild:
    events: int  # in the stream when the rebuild started
    applied: int  # rows in the rebuilt timeline at the end
    timed_events: int  # read (catch-up) or acknowledged (live path)...
    timed_seconds: float  # ...in this time: the rate, without the process's start-up
    seconds_from_start: float  # from the process start to the end of the rebuild, start-up included
    cpu_cores: dict[str, float] = field(default_factory=dict)  # by process, on average over the rebuild
    path: str = "catch-up"  # or "live path"

    @property
    def rate(self) -> float:
        if self.timed_events > 0 and self.timed_seconds > 0:
            return self.timed_events / self.timed_seconds
        return self.applied / self.seconds_from_start if self.seconds_from_start > 0 else 0.0

    @property
    def complete(self) -> bool:
        return self.applied >= self.events


@dataclass
class _Followed:
    done: bool = False
    timed_events: int = 0
    timed_seconds: float = 0.0


async def _acknowledged(js: JetStreamContext, stream: str, consumer: str, *, first_seq: int) -> int:
    """How many of the stream's messages the consumer has acknowledged, all of them in order."""
    try:
        info = await js.consumer_info(stream, consumer)
    except NotFoundError:  # not created yet
        return 0
    floor = info.ack_floor.stream_seq if info.ack_floor is not None else 0
    return max(0, (floor or 0) - first_seq + 1)


class _AckFloor:
    """The live path's progress: acknowledged messages, timed from the first acknowledgement seen."""

    def __init__(self, js: JetStreamContext, stream: str, consumer: str, *, events: int, first_seq: int) -> None:
        self._js, self._stream, self._consumer = js, stream, consumer
        self._events, self._first_seq = events, first_seq
        self._first: tuple[float, int] | None = None

    async def poll(self) -> _Followed:
        done = await _acknowledged(self._js, self._stream, self._consumer, first_seq=self._first_seq)
        now = time.monotonic()
        if self._first is None and done > 0:
            self._first = (now, done)
        if self._first is None:
            return _Followed()
        return _Followed(
            done=done >= self._events, timed_events=done - self._first[1], timed_seconds=now - self._first[0]
        )


class _ProgressRow:
    """The catch-up's progress: its own row, timed by the database's clock."""

    def __init__(self, connection: asyncpg.Connection, schema: str, consumer: str) -> None:
        self._connection = connection
        self._sql = f'SELECT messages, started_at, finished_at FROM "{schema}".catchup_progress WHERE consumer = $1'
        self._consumer = consumer

    async def poll(self) -> _Followed:
        try:
            row = await self._connection.fetchrow(self._sql, self._consumer)
        except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):  # not created yet
            return _Followed()
        if row is None or row["finished_at"] is None:
            return _Followed()
        took: timedelta = row["finished_at"] - row["started_at"]
        return _Followed(done=True, timed_events=row["messages"], timed_seconds=took.total_seconds())


async def _timeline_rows(connection: asyncpg.Connection, schema: str) -> int:
    try:
        return int(await connection.fetchval(f'SELECT count(*) FROM "{schema}".timeline'))
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        return 0


def _durable_as_the_service_makes_it(stream: str, name: str, filter_subject: str) -> ConsumerConfig:
    """The query service's defaults (``ConsumerSettings``, a fetch batch of 256)."""
    return ConsumerSettings(fetch_batch=256).durable(stream=stream, name=name, filter_subject=filter_subject).config()


async def rebuild_read_model(
    stage: Stage, *, memory: PeakMemory, cpu: CpuMeter, within: float, live_path: bool = False
) -> Rebuild:
    schema = f"rebuild_{stage.stamp}_{'live' if live_path else 'catchup'}"
    stream = stage.subjects.events_stream
    client = await nats.connect(stage.nats.url_as("admin"), connect_timeout=2, max_reconnect_attempts=1)
    connection = await asyncpg.connect(stage.database_url, timeout=10)
    try:
        js = client.jetstream()
        state = (await js.stream_info(stream)).state
        events, first_seq = int(state.messages), int(state.first_seq)
        if live_path:
            await js.add_consumer(stream, _durable_as_the_service_makes_it(stream, schema, stage.subjects.all_events))
            follow: _AckFloor | _ProgressRow = _AckFloor(js, stream, schema, events=events, first_seq=first_seq)
        else:
            follow = _ProgressRow(connection, schema, schema)
        environment = {
            **stage.config.environment("query"),
            "QUERY_PORT": str(free_port()),
            "QUERY_DB_SCHEMA": schema,
            "QUERY_CONSUMER_NAME": schema,
            "QUERY_INSTANCE": schema,
        }
        process = await start_process(
            ["-m", "hostdesk_query"], log=stage.config.log_dir / f"query-{schema}.log", env=environment
        )
        memory.watch(f"{REBUILDER} through the live path" if live_path else REBUILDER, process.pid)
        cpu.watch(REBUILDER, process.pid)
        before = cpu.snapshot()
        started = time.monotonic()
        followed = _Followed()
        try:
            while not followed.done and time.monotonic() - started < within and process.returncode is None:
                await asyncio.sleep(POLL_SECONDS)
                followed = await follow.poll()
            finished = time.monotonic()
            used = cores(before, cpu.snapshot())
        finally:
            await stop_process(process)
        applied = await _timeline_rows(connection, schema)
    finally:
        await connection.close()
        await client.close()
    return Rebuild(
        events=events,
        applied=applied,
        timed_events=followed.timed_events,
        timed_seconds=followed.timed_seconds,
        seconds_from_start=finished - started,
        cpu_cores=used,
        path="live path" if live_path else "catch-up",
    )


async def publish_synthetic(stage: Stage, *, events: int, seed: int = 1) -> int:
    """Events like those ``make bench``'s load leaves: tickets opened, and for one in three a staff reply with the
    status answered on one of the first tickets. Published as the relay does (headers, ids), in flight together."""
    tenant = "bench"
    signer = EventSigner(stage.system.config.event_key)
    customers = [account(tenant) for _ in range(300)]
    agents = [account(tenant, Role.AGENT) for _ in range(8)]
    stories: list[TicketStory] = []
    chosen = random.Random(seed)
    client = await nats.connect(stage.nats.url_as("admin"), connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = client.jetstream(publish_async_max_pending=4_000)
        published = 0
        while published < events:
            story = TicketStory(customers[len(stories) % len(customers)])
            stories.append(story)
            batch: list[AnyEvent] = [story.opened(subject="Website answers 502 since the last deploy")]
            if len(stories) % 3 == 0:
                earlier, agent = chosen.choice(stories[:4_096]), chosen.choice(agents)
                batch += [earlier.reply(agent, "We restarted PHP-FPM."), earlier.status_change(agent, Status.ANSWERED)]
            for event in batch[: events - published]:
                subject, body = stage.subjects.event(tenant, event), event.model_dump_json().encode()
                signed = signer.signed(subject, headers.event_headers(event), body)
                await js.publish_async(subject, body, headers=signed)
                published += 1
        await js.publish_async_completed()
    finally:
        await client.close()
    return published


def _line(rebuild: Rebuild) -> str:
    return (
        f"{rebuild.path:>10}: {rebuild.rate:>8,.0f} events/s"
        f" ({rebuild.timed_events:,} in {rebuild.timed_seconds:.2f} s;"
        f" {rebuild.applied:,} of {rebuild.events:,} in the timeline; {rebuild.seconds_from_start:.1f} s with"
        f" start-up; cores used: query {rebuild.cpu_cores.get(REBUILDER, 0.0):.2f},"
        f" PostgreSQL {rebuild.cpu_cores.get(POSTGRES, 0.0):.2f}, NATS {rebuild.cpu_cores.get(NATS, 0.0):.2f},"
        f" the machine {rebuild.cpu_cores.get(MACHINE, 0.0):.2f})"
    )


async def _compare(events: int, *, live_path: bool = True) -> None:
    stage = await open_stage(datetime.now().strftime("%Y%m%d_%H%M%S"), RUN_DIR, on_mail=lambda *_: None)
    memory, cpu = PeakMemory(), CpuMeter(database=stage.database)
    memory.start()
    stage.config.log_dir.mkdir(parents=True, exist_ok=True)
    try:
        client = await nats.connect(stage.nats.url_as("admin"), connect_timeout=2, max_reconnect_attempts=1)
        try:
            await ensure_streams(client.jetstream(), stage.subjects)
        finally:
            await client.close()
        published = await publish_synthetic(stage, events=events)
        print(f"{published:,} events published on {stage.subjects.events_stream}")
        within = 60 + published / 500
        live = (
            await rebuild_read_model(stage, memory=memory, cpu=cpu, within=within, live_path=True)
            if live_path
            else None
        )
        if live is not None:
            print(_line(live))
        catch_up = await rebuild_read_model(stage, memory=memory, cpu=cpu, within=within)
        print(_line(catch_up))
        if live is not None:
            ratio = catch_up.rate / live.rate if live.rate else float("nan")
            print(f"catch-up / live path: {ratio:.1f}x")
        print(f"the rebuilding process's peak memory: {memory.peaks_mb()}")
    finally:
        memory.stop()
        await close_stage(stage)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hostdesk_devtools.bench.rebuild",
        description="A read model rebuilt from one stream through the live path, then by the catch-up.",
    )
    parser.add_argument("--events", type=int, default=80_000, help="synthetic events in the stream (80,000)")
    parser.add_argument("--catch-up-only", action="store_true", help="not through the live path")
    arguments = parser.parse_args(argv)
    if not 1 <= arguments.events <= 5_000_000:
        parser.error("--events must be between 1 and 5,000,000")
    asyncio.run(_compare(arguments.events, live_path=not arguments.catch_up_only))


if __name__ == "__main__":
    main()
