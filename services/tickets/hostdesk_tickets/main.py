"""The tickets app: ``create_app(settings)`` builds the HTTP surface (health and the history of a ticket); its
lifespan runs the commands consumer, the relay and auto-close."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from hostdesk_contracts.runtime.problems import BodySizeLimit, install_problem_handlers
from hostdesk_contracts.runtime.rate_limit import RateLimiter

from hostdesk_tickets.api.routes import router
from hostdesk_tickets.runtime import Runtime, start
from hostdesk_tickets.settings import Settings


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    """The app. With ``runtime`` it serves over it and leaves starting and stopping it to the caller; without,
    its lifespan starts the service (``start(settings)``) and stops it at the end."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime is not None:
            yield
            return
        running = await start(settings)
        _serve_over(app, running)
        try:
            yield
        finally:
            await running.stop()

    app = FastAPI(title="HostDesk tickets", version="0.1.0", lifespan=lifespan)
    app.state.token_keys = settings.token_keys()  # the caller's directory entry comes with the runtime
    app.state.rate_limiter = RateLimiter(
        rate=settings.reads_per_minute / 60, burst=settings.read_burst, clock=time.monotonic
    )
    if runtime is not None:
        _serve_over(app, runtime)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(router)  # its routes that read tickets count against the caller's rate: api/deps.py
    return app


def _serve_over(app: FastAPI, running: Runtime) -> None:
    """What the routes' dependencies read, in ``app.state``."""
    app.state.directory = running.directory
    app.state.tickets = running.tickets
    app.state.runtime = running
