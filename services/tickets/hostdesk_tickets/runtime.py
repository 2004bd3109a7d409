"""Everything the tickets service runs on, built once by ``start``: the event store application, the NATS
connection, the directory its commands and its history's callers are looked up in, and the four workers (the
commands consumer, the relay, the auto-closer, the directory projector) with their tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from hostdesk_contracts.runtime.clock import Clock, utc_now
from hostdesk_contracts.runtime.directory import Directory, KvDirectory
from hostdesk_contracts.runtime.health import Readiness
from hostdesk_contracts.runtime.nats import connect, directory_bucket, ensure_streams, outcomes_bucket, threads_bucket
from nats.aio.client import Client
from nats.js.kv import KeyValue

from hostdesk_tickets.adapters.event_store import eventsourcing_env, prepare_schema
from hostdesk_tickets.adapters.round_robin import TableTurns
from hostdesk_tickets.adapters.ticket_numbers import SequenceNumbers
from hostdesk_tickets.entrypoints.auto_close import AutoCloser
from hostdesk_tickets.entrypoints.commands import CommandConsumer
from hostdesk_tickets.entrypoints.directory_projector import DirectoryProjector
from hostdesk_tickets.entrypoints.relay import Relay
from hostdesk_tickets.entrypoints.threads_projector import ThreadsProjector
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings

log = logging.getLogger(__name__)

STOP_WITHIN = 10.0  # seconds for the workers to finish what they hold before they are cancelled
DIRECTORY_WAIT_SECONDS = 5.0  # at start-up, for the directory's records (not ready until they are in)


class Worker(Protocol):
    """A task the service runs for its whole life, until asked to stop."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Runtime:
    tickets: TicketsApplication
    nats: Client
    directory: Directory
    commands: CommandConsumer
    relay: Relay
    auto_closer: AutoCloser
    directory_projector: DirectoryProjector
    threads_projector: ThreadsProjector
    tasks: tuple[asyncio.Task[None], ...]

    @property
    def workers(self) -> tuple[Worker, ...]:
        return self.commands, self.relay, self.auto_closer, self.directory_projector, self.threads_projector

    async def readiness(self) -> Readiness:
        """Ready while NATS is connected, the directory is loaded, every worker runs and the event store can be
        read; it also tells whether this replica leads the relay."""
        reasons = []
        if not self.nats.is_connected:
            reasons.append("NATS is not connected")
        if not self.directory.ready:
            reasons.append("the directory is not loaded yet")
        stopped = [task.get_name() for task in self.tasks if task.done()]
        if stopped:
            reasons.append(f"these workers stopped: {', '.join(stopped)}")
        try:
            await asyncio.to_thread(self.tickets.recorder.max_notification_id)
        except Exception as error:  # noqa: BLE001 - whatever the store raises, it cannot be read: not ready, and why
            reasons.append(f"the event store cannot be read: {type(error).__name__}")
        return Readiness(reasons=reasons, details={"relay_leader": self.relay.is_leader})

    async def stop(self) -> None:
        """Stop the workers after what they hold, drain NATS, close the event store."""
        for worker in self.workers:
            worker.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), timeout=STOP_WITHIN)
        await self.directory.stop()
        with contextlib.suppress(Exception):
            await self.nats.drain()
        await asyncio.to_thread(self.tickets.close)


def build_application(settings: Settings) -> TicketsApplication:
    """The tickets application on PostgreSQL: its schema prepared, ticket numbers from its sequence, round-robin
    turns from its table (synchronous: call it in a worker thread)."""
    prepare_schema(settings)
    return TicketsApplication(
        numbers=SequenceNumbers(settings), turns=TableTurns(settings), env=eventsourcing_env(settings)
    )


async def start(settings: Settings, *, clock: Clock = utc_now) -> Runtime:
    """Open the event store and NATS, then start the workers. ``clock`` tells auto-close what time it is."""
    tickets, nc, outcomes, bucket = await _connect(settings)
    js = nc.jetstream()
    directory = KvDirectory.on(nc, subjects=settings.subjects)
    await directory.start(wait=DIRECTORY_WAIT_SECONDS)
    commands = CommandConsumer(
        app=tickets,
        nc=nc,
        js=js,
        outcomes=outcomes,
        directory=directory,
        subjects=settings.subjects,
        settings=settings,
    )
    relay = Relay(
        app=tickets,
        js=js,
        subjects=settings.subjects,
        database_url=settings.database_url,
        lock_key=settings.relay_lock_key,
        signer=settings.event_signer(),
        batch=settings.relay_batch,
        idle_poll_seconds=settings.relay_idle_poll_seconds,
    )
    auto_closer = AutoCloser(
        app=tickets,
        database_url=settings.database_url,
        schema=settings.db_schema,
        lock_key=settings.auto_close_lock_key,
        idle=timedelta(seconds=settings.auto_close_after_seconds),
        interval_seconds=settings.auto_close_interval_seconds,
        clock=clock,
    )
    directory_projector = DirectoryProjector(
        js=js, bucket=bucket, subjects=settings.subjects, signer=settings.event_signer()
    )
    threads_projector = ThreadsProjector(
        js=js,
        bucket=await threads_bucket(js, settings.subjects),
        subjects=settings.subjects,
        signer=settings.event_signer(),
    )
    tasks = (
        asyncio.create_task(threads_projector.run(), name="threads-projector"),
        asyncio.create_task(commands.run(), name="commands"),
        asyncio.create_task(relay.run(), name="relay"),
        asyncio.create_task(auto_closer.run(), name="auto-close"),
        asyncio.create_task(directory_projector.run(), name="directory-projector"),
    )
    for task in tasks:
        task.add_done_callback(_report_end)
    return Runtime(
        tickets=tickets,
        nats=nc,
        directory=directory,
        commands=commands,
        relay=relay,
        auto_closer=auto_closer,
        directory_projector=directory_projector,
        threads_projector=threads_projector,
        tasks=tasks,
    )


async def _connect(settings: Settings) -> tuple[TicketsApplication, Client, KeyValue, KeyValue]:
    """The event store, the NATS connection, the outcomes and directory buckets; none left open if one fails."""
    tickets = await asyncio.to_thread(build_application, settings)
    nc: Client | None = None
    try:
        name = settings.instance or f"tickets-{uuid.uuid4().hex[:8]}"
        nc = await connect(settings.nats_url, name=name, **settings.nats_credentials())
        js = nc.jetstream()
        await ensure_streams(js, settings.subjects)
        outcomes = await outcomes_bucket(js, settings.subjects)
        directory = await directory_bucket(js, settings.subjects)
    except BaseException:
        if nc is not None:
            await nc.close()
        await asyncio.to_thread(tickets.close)
        raise
    return tickets, nc, outcomes, directory


def _report_end(task: asyncio.Task[None]) -> None:
    """A worker that ends by itself is a bug: say so loudly (readiness then fails too)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped", task.get_name(), exc_info=task.exception())
