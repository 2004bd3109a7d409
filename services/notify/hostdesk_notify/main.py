"""The notify app: its lifespan starts the consumer and the sender, and stops them cleanly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from hostdesk_contracts.runtime.clock import Clock, utc_now
from hostdesk_contracts.runtime.health import health_router
from hostdesk_contracts.runtime.problems import BodySizeLimit, install_problem_handlers

from hostdesk_notify import runtime
from hostdesk_notify.api.health import readiness
from hostdesk_notify.api.routes import router
from hostdesk_notify.settings import Settings


def create_app(settings: Settings, *, clock: Clock = utc_now) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = await runtime.start(settings, clock=clock)
        app.state.store = running.store
        app.state.readiness = running
        try:
            yield
        finally:
            await running.stop()

    app = FastAPI(title="HostDesk notify", version="1", lifespan=lifespan)
    app.state.jwt_secret = settings.jwt_secret.get_secret_value()
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    install_problem_handlers(app)
    app.include_router(health_router(readiness))
    app.include_router(router)
    return app
