"""The query service: the read model fed by the ``query`` consumer of the events stream, served over HTTP."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import asyncpg
from fastapi import FastAPI
from hostdesk_contracts.runtime.consumer import PullConsumer
from hostdesk_contracts.runtime.nats import connect, ensure_streams
from nats.aio.msg import Msg

from hostdesk_query.adapters.health import ServerHealth
from hostdesk_query.adapters.jetstream import JetStreamDelivery
from hostdesk_query.adapters.notices import PostgresVersionNotices, notify_channel
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.adapters.schema import ensure_schema
from hostdesk_query.api.app import build_api
from hostdesk_query.entrypoints.catchup import CatchUp
from hostdesk_query.service_layer.projector import Projector
from hostdesk_query.settings import Settings

log = logging.getLogger(__name__)

# How long shutdown waits for the batch in hand before it gives up on it (JetStream redelivers it).
_STOP_TIMEOUT_SECONDS = 15.0


async def _create_pool(settings: Settings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        command_timeout=settings.statement_timeout_seconds,
        server_settings={
            "search_path": settings.db_schema,
            "application_name": "hostdesk-query",
            # asyncpg prepares every statement, and PostgreSQL may settle on a generic plan chosen while a
            # table was nearly empty (a rebuild starts from nothing): a sequential scan that stays for good
            # and cost 56 ms a batch at 25,000 tickets. Planning each execution costs a fraction of that.
            "plan_cache_mode": "force_custom_plan",
        },
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def _lifespan(settings: Settings, app: FastAPI) -> AsyncIterator[None]:
    instance = settings.instance or uuid.uuid4().hex[:8]
    pool = await _create_pool(settings)
    await ensure_schema(pool, settings.db_schema)
    nc = await connect(settings.nats_url, name=f"hostdesk-query-{instance}")
    js = nc.jetstream()
    await ensure_streams(js, settings.subjects)

    channel = notify_channel(settings.db_schema)
    read_model = PostgresReadModel(pool, notify_channel=channel)
    notices = PostgresVersionNotices(settings.database_url, channel=channel)
    notices.start()
    stopping = asyncio.Event()
    projector = Projector(read_model, redelivery=settings.redelivery, stopping=stopping)
    durable = settings.durable(
        stream=settings.subjects.events_stream, name=settings.consumer_name, filter_subject=settings.subjects.all_events
    )
    catch_up = CatchUp(
        pool=pool,
        nc=nc,
        store=read_model,
        schema=settings.db_schema,
        stream=settings.subjects.events_stream,
        durable=durable.config(),
        stopping=stopping,
    )

    async def consume() -> None:
        """A fresh read model first catches up in bulk; then the durable consumer takes over."""
        config = await catch_up.run()
        if config is None:
            return

        async def project(messages: list[Msg]) -> None:
            await projector.handle([JetStreamDelivery(message) for message in messages])

        consumer = PullConsumer(
            js,
            spec=durable,
            config=config,
            handle=project,
            batch=settings.fetch_batch,
            fetch_wait=settings.fetch_timeout_seconds,
            stopping=stopping,
        )
        await consumer.run()

    consuming = asyncio.create_task(consume(), name="query-consumer")
    consuming.add_done_callback(_report_end)

    app.state.reader = read_model
    app.state.notices = notices
    app.state.health = ServerHealth(read_model, nc, consuming)
    log.info("query %s serving; consuming %s", instance, settings.subjects.all_events)
    try:
        yield
    finally:
        stopping.set()
        try:
            await asyncio.wait_for(consuming, timeout=_STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("the consumer did not stop within %.0fs; its batch will be redelivered", _STOP_TIMEOUT_SECONDS)
        await notices.close()
        await nc.drain()
        await pool.close()


def _report_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the consumer stopped on an error", exc_info=task.exception())


def create_app(settings: Settings) -> FastAPI:
    return build_api(settings, lifespan=partial(_lifespan, settings))
