"""The intake service: ``create_app(settings)`` builds the HTTP API and links it to NATS for its lifetime."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from hostdesk_contracts.runtime.clock import Clock, utc_now
from hostdesk_contracts.runtime.health import health_router
from hostdesk_contracts.runtime.problems import BodySizeLimit, install_problem_handlers

from hostdesk_intake.adapters.command_bus import CommandBus
from hostdesk_intake.adapters.nats_bus import nats_command_bus
from hostdesk_intake.api.actions import router as actions_router
from hostdesk_intake.api.health import readiness
from hostdesk_intake.api.routes import router as commands_router
from hostdesk_intake.domain.rate_limit import RateLimiter
from hostdesk_intake.domain.status_labels import StatusLabels
from hostdesk_intake.settings import Settings


def create_app(
    settings: Settings,
    *,
    bus: CommandBus | None = None,
    clock: Clock = utc_now,
    monotonic: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The app. ``bus`` replaces NATS (unit tests pass a fake); the clocks stamp commands and meter rates."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if bus is not None:
            app.state.bus = bus
            yield
            return
        # The server stops taking requests and finishes those in flight before this block ends and drains NATS.
        async with nats_command_bus(settings) as nats_bus:
            app.state.bus = nats_bus
            yield

    app = FastAPI(title="HostDesk intake", version="0.1.0", lifespan=lifespan)
    app.state.jwt_secret = settings.jwt_secret.get_secret_value()
    app.state.clock = clock
    app.state.rate_limiter = RateLimiter(
        rate=settings.rate_limit_per_second,
        burst=settings.rate_limit_burst,
        clock=monotonic,
        max_keys=settings.rate_limit_accounts,
    )
    app.state.status_labels = StatusLabels(settings.status_labels)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health_router(readiness))
    app.include_router(commands_router)
    app.include_router(actions_router)
    return app
