"""The versions of the read model this replica serves and builds (``hostdesk_contracts.read_model_versions``).

At start-up the replica serves the version marked ``serving`` and builds every version marked ``building``
beside it: each version has its own schema, pool and events consumer (a catch-up in bulk, then its durable
consumer: ``entrypoints.events``), so a version being built follows every new event while the other serves.
The replica then watches the versions (a ``NOTIFY`` on the versions' channel, and a look every
``_LOOK_SECONDS`` in case one was missed): a new version is built, and a switch is one assignment of the read
model requests are served from; the version served before stops consuming and its pool closes once the reads
still on it are done. Every look records which version this replica serves, for the rebuild to know when the
retired one is no longer read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import asyncpg
from hostdesk_contracts.read_model_versions import State, Version, versions_channel
from hostdesk_contracts.signing import EventSigner
from nats.aio.client import Client

from hostdesk_query.adapters.notices import PostgresVersionNotices, notify_channel
from hostdesk_query.adapters.postgres import UNAVAILABLE_ERRORS, PostgresReadModel, create_pool
from hostdesk_query.adapters.schema import ensure_schema
from hostdesk_query.adapters.serving import ServingNotices, ServingReadModel
from hostdesk_query.adapters.versions import ensure_versions, forget_replica, read_versions, record_replica
from hostdesk_query.entrypoints.catchup import CatchUp
from hostdesk_query.entrypoints.events import TicketEvents
from hostdesk_query.service_layer.projector import Projector
from hostdesk_query.settings import Settings

log = logging.getLogger(__name__)

_LOOK_SECONDS = 2.0
_STOP_SECONDS = 15.0  # how long a version's consumer may take to finish its batch when it stops
# How long the pool of a version no longer served stays open for the reads that started on it.
_DRAIN_SECONDS = 30.0


@dataclass
class _Built:
    version: Version
    pool: asyncpg.Pool
    read_model: PostgresReadModel
    stopping: asyncio.Event
    consuming: asyncio.Task[None]
    notices: PostgresVersionNotices | None = None

    async def close(self) -> None:
        self.stopping.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_STOP_SECONDS):
                await asyncio.gather(self.consuming, return_exceptions=True)
        if self.notices is not None:
            await self.notices.close()
        await self.pool.close()


class ReadModels:
    def __init__(
        self, settings: Settings, *, nc: Client, signer: EventSigner, stopping: asyncio.Event, instance: str
    ) -> None:
        self._settings = settings
        self._nc = nc
        self._signer = signer
        self._stopping = stopping
        self._instance = instance
        self._base = settings.db_schema
        self._built: dict[int, _Built] = {}
        self._serving_version = 0
        self._control: asyncpg.Pool | None = None
        self._watching: asyncio.Task[None] | None = None
        self._draining: dict[asyncio.Task[None], _Built] = {}
        self.serving: ServingReadModel
        self.notices: ServingNotices

    async def open(self) -> None:
        """Serve the serving version, build the others being built, and start watching. Raises what
        PostgreSQL raises: the caller closes what was opened."""
        self._control = await asyncpg.create_pool(self._settings.database_url, min_size=1, max_size=2)
        await ensure_versions(self._control, self._base, self._settings.consumer_name)
        listed = await read_versions(self._control, self._base)
        (serving,) = [version for version in listed if version.state is State.SERVING]
        built = await self._build(serving)
        built.notices = self._notices_of(serving)
        self.serving, self.notices = ServingReadModel(built.read_model), ServingNotices(built.notices)
        self._serving_version = serving.version
        for version in listed:
            if version.state is State.BUILDING:
                await self._build(version)
        await record_replica(self._control, self._base, instance=self._instance, serving=serving.version)
        self._watching = asyncio.create_task(self._watch(), name="read model versions")

    def tasks(self) -> list[asyncio.Task[None]]:
        """What must keep running for the replica to be ready."""
        running = [built.consuming for built in self._built.values()]
        return running + ([] if self._watching is None else [self._watching])

    async def close(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
        for draining in self._draining:
            draining.cancel()
        closing = [*self._built.values(), *self._draining.values()]
        await asyncio.gather(*(built.close() for built in closing), return_exceptions=True)
        if self._control is not None:
            with contextlib.suppress(*UNAVAILABLE_ERRORS):
                await forget_replica(self._control, self._base, instance=self._instance)
            await self._control.close()

    def _notices_of(self, version: Version) -> PostgresVersionNotices:
        notices = PostgresVersionNotices(self._settings.database_url, channel=notify_channel(version.schema))
        notices.start()
        return notices

    async def _build(self, version: Version) -> _Built:
        settings = self._settings
        pool = await create_pool(
            settings.database_url,
            schema=version.schema,
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            statement_timeout=settings.statement_timeout_seconds,
        )
        try:
            await ensure_schema(pool, version.schema)
        except BaseException:
            await pool.close()
            raise
        read_model = PostgresReadModel(pool, notify_channel=notify_channel(version.schema))
        stopping = asyncio.Event()
        durable = settings.durable(
            stream=settings.subjects.events_stream, name=version.consumer, filter_subject=settings.subjects.all_events
        )
        catch_up = CatchUp(
            pool=pool,
            nc=self._nc,
            store=read_model,
            schema=version.schema,
            stream=settings.subjects.events_stream,
            durable=durable.config(),
            signer=self._signer,
            stopping=stopping,
        )
        events = TicketEvents(
            self._nc.jetstream(),
            catch_up=catch_up,
            projector=Projector(read_model, redelivery=settings.redelivery, signer=self._signer, stopping=stopping),
            spec=durable,
            batch=settings.fetch_batch,
            fetch_wait=settings.fetch_timeout_seconds,
            stopping=stopping,
        )
        name = "consumer" if version.version == 1 else f"consumer of version {version.version}"
        consuming = asyncio.create_task(events.run(), name=name)
        consuming.add_done_callback(_log_crash)
        built = self._built[version.version] = _Built(version, pool, read_model, stopping, consuming)
        log.info("read model version %d (%s) consumed by %s", version.version, version.schema, version.consumer)
        return built

    async def _watch(self) -> None:
        changed = asyncio.Event()
        listener: asyncpg.Connection | None = None
        try:
            while not self._stopping.is_set():
                if listener is None or listener.is_closed():
                    listener = await self._listen(changed)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_LOOK_SECONDS):
                        await changed.wait()
                changed.clear()
                try:
                    await self._reconcile()
                except UNAVAILABLE_ERRORS as error:
                    log.warning("could not look at the read model's versions: %s", error)
        finally:
            if listener is not None:
                with contextlib.suppress(*UNAVAILABLE_ERRORS):
                    await listener.close(timeout=2.0)

    async def _listen(self, changed: asyncio.Event) -> asyncpg.Connection | None:
        try:
            listener = await asyncpg.connect(self._settings.database_url, timeout=5.0)
            await listener.add_listener(versions_channel(self._base), lambda *_: changed.set())
        except UNAVAILABLE_ERRORS as error:
            log.warning("not told of the read model's versions (looking every %.0fs): %s", _LOOK_SECONDS, error)
            return None
        return listener

    async def _reconcile(self) -> None:
        assert self._control is not None
        listed = await read_versions(self._control, self._base)
        for version in listed:
            if version.state is State.SERVING and version.version != self._serving_version:
                await self._switch_to(version)
            elif version.state is State.BUILDING and version.version not in self._built:
                await self._build(version)
        for version in listed:
            if version.state in (State.RETIRED, State.DROPPED) and version.version in self._built:
                self._retire(version.version)
        await record_replica(self._control, self._base, instance=self._instance, serving=self._serving_version)

    async def _switch_to(self, version: Version) -> None:
        built = self._built.get(version.version) or await self._build(version)
        built.notices = self._notices_of(version)
        self.serving.current, self.notices.current = built.read_model, built.notices
        log.info("now serving read model version %d (%s)", version.version, version.schema)
        before, self._serving_version = self._serving_version, version.version
        if before in self._built:
            self._retire(before)

    def _retire(self, version: int) -> None:
        """Stop consuming into ``version``; its pool closes once the reads that started on it are done."""
        built = self._built.pop(version)
        built.stopping.set()

        async def drain() -> None:
            await asyncio.sleep(_DRAIN_SECONDS)
            await built.close()

        draining = asyncio.create_task(drain(), name=f"drain of read model version {version}")
        self._draining[draining] = built
        draining.add_done_callback(lambda done: self._draining.pop(done, None))
        log.info("read model version %d retired", version)


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("the %s stopped on an error", task.get_name(), exc_info=error)
