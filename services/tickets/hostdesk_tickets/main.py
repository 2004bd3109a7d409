"""The tickets service: the command consumer, the relay, auto-close, and an HTTP surface for health and the
history of a ticket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Protocol

from fastapi import FastAPI
from hostdesk_contracts.runtime.clock import Clock, utc_now
from hostdesk_contracts.runtime.health import health_router
from hostdesk_contracts.runtime.nats import connect, ensure_streams, outcomes_bucket
from hostdesk_contracts.runtime.problems import BodySizeLimit, install_problem_handlers

from hostdesk_tickets.api.health import readiness
from hostdesk_tickets.api.history import router as history_router
from hostdesk_tickets.entrypoints.auto_close import AutoCloser
from hostdesk_tickets.entrypoints.commands import CommandConsumer
from hostdesk_tickets.entrypoints.relay import Relay
from hostdesk_tickets.runtime import build_application
from hostdesk_tickets.settings import Settings

log = logging.getLogger(__name__)


class Worker(Protocol):
    """A task the service runs for its whole life, until asked to stop."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


def create_app(settings: Settings, *, clock: Clock = utc_now) -> FastAPI:
    """The app. ``clock`` tells auto-close what time it is (tests move it forward)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        instance = settings.instance or f"tickets-{uuid.uuid4().hex[:8]}"
        tickets = await asyncio.to_thread(build_application, settings)
        nc = await connect(settings.nats_url, name=instance)
        js = nc.jetstream()
        await ensure_streams(js, settings.subjects)
        consumer = CommandConsumer(
            app=tickets,
            nc=nc,
            js=js,
            outcomes=await outcomes_bucket(js, settings.subjects),
            subjects=settings.subjects,
            settings=settings,
        )
        relay = Relay(
            app=tickets,
            js=js,
            subjects=settings.subjects,
            database_url=settings.database_url,
            lock_key=settings.relay_lock_key,
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
        app.state.tickets, app.state.nc, app.state.relay = tickets, nc, relay
        workers: dict[str, Worker] = {"commands": consumer, "relay": relay, "auto-close": auto_closer}
        tasks = [asyncio.create_task(worker.run(), name=name) for name, worker in workers.items()]
        for task in tasks:
            task.add_done_callback(_report_end)
        app.state.tasks = tasks
        try:
            yield
        finally:
            for worker in workers.values():
                worker.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)
            with contextlib.suppress(Exception):
                await nc.drain()
            await asyncio.to_thread(tickets.close)

    app = FastAPI(title="HostDesk tickets", version="0.1.0", lifespan=lifespan)
    app.state.jwt_secret = settings.jwt_secret.get_secret_value()
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health_router(readiness))
    app.include_router(history_router)
    return app


def _report_end(task: asyncio.Task[None]) -> None:
    """A worker that ends by itself is a bug: say so loudly (readiness then fails too)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped", task.get_name(), exc_info=task.exception())
