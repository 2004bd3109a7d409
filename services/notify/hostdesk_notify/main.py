"""The notify app: ``create_app(settings)`` builds the HTTP API; its lifespan runs the consumer and the sender."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from hostdesk_contracts.directory import Scope
from hostdesk_contracts.runtime.auth import scoped_actor
from hostdesk_contracts.runtime.health import health_router
from hostdesk_contracts.runtime.problems import BodySizeLimit, install_problem_handlers
from hostdesk_contracts.runtime.rate_limit import RateLimiter, rate_limited_actor

from hostdesk_notify.api.dead_letters import router as dead_letters_router
from hostdesk_notify.api.routes import router
from hostdesk_notify.runtime import Runtime, start
from hostdesk_notify.settings import Settings


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    """The app. With ``runtime`` it serves over it and leaves starting and stopping it to the caller; without,
    its lifespan starts notify (``start(settings)``) and stops it at the end."""

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

    app = FastAPI(title="HostDesk notify", version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.token_keys = settings.token_keys()  # the caller's directory entry comes with the runtime
    app.state.rate_limiter = RateLimiter(
        rate=settings.reads_per_minute / 60, burst=settings.read_burst, clock=time.monotonic
    )
    if runtime is not None:
        _serve_over(app, runtime)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_problem_handlers(app)
    app.include_router(health_router())
    # Every route of the API reads tickets (an API key needs ``tickets:read``) and counts against its caller's rate;
    # health and readiness do neither.
    reading = [Depends(scoped_actor(Scope.TICKETS_READ)), Depends(rate_limited_actor)]
    app.include_router(router, dependencies=reading)
    app.include_router(dead_letters_router, dependencies=reading)
    return app


def _serve_over(app: FastAPI, running: Runtime) -> None:
    """What the routes' dependencies read, in ``app.state``."""
    app.state.directory = running.directory
    app.state.store = running.store
    app.state.runtime = running
