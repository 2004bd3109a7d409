"""Everything query runs while it is up: its NATS connection, the directory its callers are looked up in, the
attachment store files are downloaded from, the read models (the version served and any being built, each with
its pool and events consumer: ``entrypoints.read_models``), and the live feed of changes with its hub."""

from __future__ import annotations

import asyncio
import logging
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from hostdesk_contracts.runtime.blobs import BlobStore, NatsBlobStore
from hostdesk_contracts.runtime.directory import Directory, KvDirectory
from hostdesk_contracts.runtime.health import Readiness
from hostdesk_contracts.runtime.nats import connect, wait_for_streams

from hostdesk_query.adapters.ports import NatsConnection, ReadModel, VersionNotices
from hostdesk_query.entrypoints.live_feed import LiveFeed
from hostdesk_query.entrypoints.read_models import ReadModels
from hostdesk_query.service_layer.live_hub import LiveHub
from hostdesk_query.service_layer.replay import Replayer
from hostdesk_query.settings import Settings

log = logging.getLogger(__name__)

# How long start-up waits for the directory's records before it serves (not ready until they are in).
_DIRECTORY_WAIT_SECONDS = 5.0
# How often the dead letters whose replay the command line asked for are looked for.
_REPLAY_LOOK_SECONDS = 2.0
# How long stopping waits for the batch in hand before it gives up on it (JetStream redelivers it).
_STOP_TIMEOUT_SECONDS = 15.0


@dataclass
class Runtime:
    """What query serves and consumes with. ``start`` builds it on PostgreSQL and NATS; unit tests build one on
    the fakes of ``adapters.memory``, with no task and nothing to close."""

    read_model: ReadModel
    notices: VersionNotices
    nats: NatsConnection
    directory: Directory
    blobs: BlobStore  # the files' bytes, read only
    # Live updates: fed by the live feed's task on a running service, by the test itself in unit tests.
    hub: LiveHub = field(default_factory=lambda: LiveHub(buffer=1_000, queue=100, per_caller=5))
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: tuple[asyncio.Task[None], ...] = ()
    read_models: ReadModels | None = None  # the versions served and built, with their consumers' tasks
    # The NATS connection, the directory and the read models: closed in the reverse order of their opening.
    resources: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def readiness(self) -> Readiness:
        """Ready while PostgreSQL answers, NATS is connected, the directory is loaded and the consumer runs."""
        reasons = []
        if not await self.read_model.answers():
            reasons.append("PostgreSQL does not answer")
        if not self.nats.is_connected:
            reasons.append("NATS is not connected")
        if not self.directory.ready:
            reasons.append("the directory is not loaded yet")
        tasks = [*self.tasks, *(() if self.read_models is None else self.read_models.tasks())]
        reasons.extend(f"the {task.get_name()} has stopped" for task in tasks if task.done())
        return Readiness(reasons=reasons)

    async def stop(self) -> None:
        """Stop consuming after the batch in hand, close the read models (their consumers, notices and pools),
        drain NATS."""
        self.stopping.set()
        if self.tasks:
            try:
                async with asyncio.timeout(_STOP_TIMEOUT_SECONDS):
                    await asyncio.gather(*self.tasks, return_exceptions=True)
            except TimeoutError:
                log.warning(
                    "the consumer did not stop within %.0fs; its batch will be redelivered", _STOP_TIMEOUT_SECONDS
                )
        await self.resources.aclose()


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("the %s stopped on an error", task.get_name(), exc_info=error)


async def start(settings: Settings) -> Runtime:
    """Connect, create or upgrade the read model's tables, and start the consumer: a fresh read model catches
    up in bulk first. Whatever was opened is closed again when a step fails."""
    resources = AsyncExitStack()
    try:
        return await _start_on(settings, resources)
    except BaseException:
        await resources.aclose()
        raise


async def _start_on(settings: Settings, resources: AsyncExitStack) -> Runtime:
    instance = settings.instance or uuid.uuid4().hex[:8]
    client = await connect(settings.nats_url, name=f"hostdesk-query-{instance}", **settings.nats_credentials())
    resources.push_async_callback(client.drain)
    js = client.jetstream()
    await wait_for_streams(js, [settings.subjects.events_stream])
    signer = settings.event_signer()
    directory = KvDirectory.on(client, subjects=settings.subjects)
    await directory.start(wait=_DIRECTORY_WAIT_SECONDS)
    resources.push_async_callback(directory.stop)  # before the connection drains

    stopping = asyncio.Event()
    read_models = ReadModels(settings, nc=client, signer=signer, stopping=stopping, instance=instance)
    resources.push_async_callback(read_models.close)  # its consumers stop before the connection drains
    await read_models.open()
    hub = LiveHub(
        buffer=settings.live_buffer_events,
        queue=settings.live_queue_events,
        per_caller=settings.live_streams_per_caller,
    )
    feed = LiveFeed(
        js,
        stream=settings.subjects.events_stream,
        subject=settings.subjects.all_events,
        signer=signer,
        tickets=read_models.serving,
        notices=read_models.notices,
        hub=hub,
        buffer=settings.live_buffer_events,
        wait=settings.live_wait_seconds,
        stopping=stopping,
    )
    feeding = asyncio.create_task(feed.run(), name="live feed")
    feeding.add_done_callback(_log_crash)
    pinging = asyncio.create_task(hub.ping_idle_every(settings.live_ping_seconds, stopping), name="live pings")
    pinging.add_done_callback(_log_crash)
    replayer = Replayer(
        read_models.serving, read_models.serving, signer=signer, every=_REPLAY_LOOK_SECONDS, stopping=stopping
    )
    replaying = asyncio.create_task(replayer.run(), name="dead letters' replayer")
    replaying.add_done_callback(_log_crash)
    log.info("query %s serving; consuming %s", instance, settings.subjects.all_events)
    return Runtime(
        read_model=read_models.serving,
        notices=read_models.notices,
        nats=client,
        directory=directory,
        blobs=NatsBlobStore(lambda: client, subjects=settings.subjects, timeout=settings.attachment_timeout_seconds),
        hub=hub,
        stopping=stopping,
        tasks=(feeding, pinging, replaying),
        read_models=read_models,
        resources=resources,
    )
