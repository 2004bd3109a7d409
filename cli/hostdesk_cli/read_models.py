"""Rebuilding query's read model without downtime (``hostdesk_contracts.read_model_versions``).

``rebuild`` adds a version ``building`` (or takes up the one a rebuild before left building), which every query
replica then builds from the events stream beside the version it serves, and follows. Meanwhile it reports the
progress: the catch-up's events read against the stream's end when it began (``catchup_progress`` in the new
schema), then how far the new version's consumer trails the serving one's. Once the new version has applied
every event the serving one has (its consumer's acknowledged floor has reached the serving consumer's), it
switches readers over in one transaction and tells the replicas; once every replica seen lately serves the new
version, it drops the one before (its schema and its durable consumer). Readers are served by the old version
until the switch and by the new one from then on: never a mix within a request, never nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import asyncpg
import typer
from hostdesk_contracts import read_model_versions as versions
from hostdesk_contracts.read_model_versions import State, Version
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from hostdesk_cli.nats_directory import connect_nats
from hostdesk_cli.outcomes import REFUSED, UNREACHABLE, CommandFailed
from hostdesk_cli.session import session_of

CONNECT_SECONDS = 5.0
REPLICA_SEEN_SECONDS = 10.0  # a replica that recorded itself this recently counts as running
NO_REPLICA_SECONDS = 30.0  # a rebuild with no replica running gives up after this long


class Phase(StrEnum):
    CATCHING_UP = "catching up"
    FOLLOWING = "following"
    SWITCHED = "switched"
    DROPPED = "dropped"


@dataclass(frozen=True)
class Progress:
    version: int
    phase: Phase
    done: int  # events read (catching up), or acknowledged (following)
    total: int  # the events to read (catching up), or the serving version's acknowledged
    rate: float  # events a second, since the last report (the bar tells the time left from the same)


@dataclass(frozen=True)
class Outcome:
    version: Version
    switched: bool
    dropped: Version | None
    still_on_old: tuple[str, ...] = ()  # replicas that did not switch in time: the old version was kept


class RebuildFailed(Exception):
    pass


async def _versions(connection: asyncpg.Connection, base: str) -> list[Version]:
    try:
        rows = await connection.fetch(versions.select_versions(base))
    except asyncpg.UndefinedTableError as error:
        raise RebuildFailed(
            f"no read model versions under {versions.control_schema(base)}: has query run on this database with"
            f" QUERY_DB_SCHEMA={base}?"
        ) from error
    return [Version(row["version"], row["schema_name"], row["consumer"], State(row["state"])) for row in rows]


async def start_version(connection: asyncpg.Connection, base: str) -> Version:
    """The version being built: the one a rebuild left building, else a new one, told to the replicas."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", versions.lock_key(base))
        listed = await _versions(connection, base)
        building = [version for version in listed if version.state is State.BUILDING]
        if building:
            return building[-1]
        (serving,) = [version for version in listed if version.state is State.SERVING]
        number = max(version.version for version in listed) + 1
        schema, consumer = versions.version_names(base, _base_consumer(serving), number)
        await connection.execute(versions.insert_version(base), number, schema, consumer, State.BUILDING.value)
        await connection.execute("SELECT pg_notify($1, 'building')", versions.versions_channel(base))
        return Version(number, schema, consumer, State.BUILDING)


def _base_consumer(serving: Version) -> str:
    """The consumer name versions are named after: the serving one's, less its version suffix."""
    head, _, tail = serving.consumer.rpartition("_v")
    return head if head and tail.isdigit() else serving.consumer


async def _caught_up(connection: asyncpg.Connection, version: Version) -> tuple[int, int, bool]:
    """The catch-up's messages read, the stream's end when it began, and whether it has finished."""
    try:
        row = await connection.fetchrow(
            f'SELECT messages, target_seq, read_seq, finished_at FROM "{version.schema}".catchup_progress'
            " WHERE consumer = $1",
            version.consumer,
        )
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        return 0, 0, False
    if row is None:
        return 0, 0, False
    return row["read_seq"], row["target_seq"], row["finished_at"] is not None


async def _acknowledged(nc: Client, stream: str, consumer: str) -> tuple[int, bool] | None:
    """The stream sequence up to which ``consumer`` has acknowledged every message, and whether it has nothing
    left to deliver or to hear back about (it has applied the whole stream); None: no such consumer."""
    try:
        info = await nc.jetstream().consumer_info(stream, consumer)
    except NotFoundError:
        return None
    floor = info.ack_floor.stream_seq if info.ack_floor is not None and info.ack_floor.stream_seq else 0
    return floor, not info.num_pending and not info.num_ack_pending


async def rebuild(
    database_url: str,
    nc: Client,
    *,
    base: str,
    stream: str,
    switch: bool = True,
    drop: bool = True,
    report: Callable[[Progress], None] = lambda progress: None,
    every: float = 0.5,
    replicas_within: float = 60.0,
) -> Outcome:
    connection = await asyncpg.connect(database_url, timeout=CONNECT_SECONDS)
    try:
        version = await start_version(connection, base)
        await _until_caught_up(connection, nc, version, base=base, stream=stream, report=report, every=every)
        if not switch:
            return Outcome(version=version, switched=False, dropped=None)
        before = await _switch(connection, version, base)
        report(Progress(version.version, Phase.SWITCHED, 0, 0, 0.0))
        still = await _replicas_on(connection, base, version.version, within=replicas_within, every=every)
        if still or not drop:
            return Outcome(version=version, switched=True, dropped=None, still_on_old=still)
        await _drop(connection, nc, before, base=base, stream=stream)
        report(Progress(version.version, Phase.DROPPED, 0, 0, 0.0))
        return Outcome(version=version, switched=True, dropped=before)
    finally:
        await connection.close()


async def _until_caught_up(
    connection: asyncpg.Connection,
    nc: Client,
    version: Version,
    *,
    base: str,
    stream: str,
    report: Callable[[Progress], None],
    every: float,
) -> None:
    """Report the progress until the new version has applied every event the serving one has."""
    last: tuple[float, int] | None = None
    alone_since: float | None = None
    while True:
        if await connection.fetch(versions.select_replicas(base), REPLICA_SEEN_SECONDS):
            alone_since = None
        elif alone_since is None:
            alone_since = time.monotonic()
        elif time.monotonic() - alone_since > NO_REPLICA_SECONDS:
            raise RebuildFailed(
                f"no query replica has been seen for {NO_REPLICA_SECONDS:.0f} s: it builds the new version."
                " Start query, then run the rebuild again: it takes up where it stopped."
            )
        (serving,) = [v for v in await _versions(connection, base) if v.state is State.SERVING]
        read, target, finished = await _caught_up(connection, version)
        phase, done, total = Phase.CATCHING_UP, read, target
        if finished:
            ours = await _acknowledged(nc, stream, version.consumer)
            theirs = await _acknowledged(nc, stream, serving.consumer)
            if ours is not None and theirs is not None:
                (done, idle), (total, _) = ours, theirs
                phase = Phase.FOLLOWING
                if done >= total or idle:
                    report(Progress(version.version, phase, max(done, total), total, 0.0))
                    return
        now = time.monotonic()
        rate = 0.0 if last is None or now <= last[0] else max(0.0, (done - last[1]) / (now - last[0]))
        report(Progress(version.version, phase, done, total, rate))
        last = (now, done)
        await asyncio.sleep(every)


async def _switch(connection: asyncpg.Connection, version: Version, base: str) -> Version:
    """Serve ``version``; the version served before, now retired."""
    retire, serve = versions.switch(base)
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", versions.lock_key(base))
        (before,) = [v for v in await _versions(connection, base) if v.state is State.SERVING]
        await connection.execute(retire)
        if await connection.execute(serve, version.version) != "UPDATE 1":
            raise RebuildFailed(f"version {version.version} is no longer being built: another rebuild took it")
        await connection.execute("SELECT pg_notify($1, 'switched')", versions.versions_channel(base))
    return before


async def _replicas_on(
    connection: asyncpg.Connection, base: str, version: int, *, within: float, every: float
) -> tuple[str, ...]:
    """The running replicas still serving another version once ``within`` seconds are up (none: all moved)."""
    deadline = time.monotonic() + within
    while True:
        rows = await connection.fetch(versions.select_replicas(base), REPLICA_SEEN_SECONDS)
        behind = tuple(row["instance"] for row in rows if row["serving"] != version)
        if not behind or time.monotonic() > deadline:
            return behind
        await asyncio.sleep(every)


async def _drop(connection: asyncpg.Connection, nc: Client, version: Version, *, base: str, stream: str) -> None:
    with contextlib.suppress(NotFoundError):  # gone already: dropped by a rebuild before that was stopped here
        await nc.jetstream().delete_consumer(stream, version.consumer)
    async with connection.transaction():
        await connection.execute(f'DROP SCHEMA IF EXISTS "{version.schema}" CASCADE')
        await connection.execute(versions.mark_dropped(base), version.version)


app = typer.Typer(help="Query's read model: rebuild it from the event log without downtime.")


@app.command("rebuild")
def rebuild_command(
    context: typer.Context,
    query_schema: str = typer.Option("query", envvar="QUERY_DB_SCHEMA", help="Query's base schema."),
    switch: bool = typer.Option(True, help="Switch readers over once caught up (--no-switch: build and follow)."),
    keep_old: bool = typer.Option(False, "--keep-old", help="Keep the version served before (its schema)."),
) -> None:
    """Build a new version of query's read model beside the one serving, from the events stream, then switch
    readers over to it and drop the old one. Run again, it takes up the version a rebuild before left."""
    session = session_of(context)
    connection = session.connection
    if not versions.SCHEMA_PATTERN.fullmatch(query_schema):
        session.fail(f"{query_schema!r} is no schema name", exit_code=REFUSED)
    columns = (
        TextColumn("version {task.fields[version]}: {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:,.0f} events/s"),
        TimeRemainingColumn(),
    )

    async def run() -> Outcome:
        nc = await connect_nats(connection)
        try:
            with RichProgress(*columns, console=session.console, transient=False) as bar:
                task = bar.add_task("starting", total=None, version="?", rate=0.0)

                def report(progress: Progress) -> None:
                    bar.update(
                        task,
                        description=progress.phase.value,
                        completed=progress.done,
                        total=progress.total or None,
                        version=progress.version,
                        rate=progress.rate,
                    )

                return await rebuild(
                    connection.database_url,
                    nc,
                    base=query_schema,
                    stream=connection.subjects.events_stream,
                    switch=switch,
                    drop=not keep_old,
                    report=report,
                )
        finally:
            await nc.close()

    def guarded() -> Outcome:
        try:
            return asyncio.run(run())
        except RebuildFailed as error:
            raise CommandFailed(str(error)) from error
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            raise CommandFailed(f"PostgreSQL cannot be reached: {error}", exit_code=UNREACHABLE) from error

    outcome = session.guarded(guarded)
    built = outcome.version
    if not outcome.switched:
        session.console.print(f"Version {built.version} ({built.schema}) is built and follows; readers not switched.")
    elif outcome.still_on_old:
        session.console.print(
            f"Readers switched to version {built.version} ({built.schema}); the version before is kept: replicas"
            f" {', '.join(outcome.still_on_old)} did not switch in time. Run again once they have."
        )
    elif outcome.dropped is None:
        session.console.print(f"Readers switched to version {built.version} ({built.schema}); the one before kept.")
    else:
        session.console.print(
            f"Readers switched to version {built.version} ({built.schema});"
            f" version {outcome.dropped.version} ({outcome.dropped.schema}) dropped."
        )
