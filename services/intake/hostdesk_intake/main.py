"""The intake service: ``create_app(settings)`` builds the HTTP API, its lifespan runs intake on NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from hostdesk_contracts.runtime.health import health_router
from hostdesk_contracts.runtime.problems import BodySizeLimit, install_problem_handlers

from hostdesk_intake.api.alerts import router as alerts_router
from hostdesk_intake.api.attachments import UPLOADS_PATH
from hostdesk_intake.api.attachments import router as attachments_router
from hostdesk_intake.api.directory import router as directory_router
from hostdesk_intake.api.imports import router as imports_router
from hostdesk_intake.api.mail import router as mail_router
from hostdesk_intake.api.routes import router
from hostdesk_intake.runtime import Runtime, start
from hostdesk_intake.settings import Settings


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    """The app. With ``runtime`` (unit tests pass one over a fake bus) it serves over it and leaves starting and
    stopping it to the caller; without, its lifespan starts intake on NATS and stops it at the end."""

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
            # The server has stopped taking requests and finished those in flight: the bus drains last.
            await running.stop()

    app = FastAPI(title="HostDesk intake", version="0.1.0", lifespan=lifespan)
    app.state.token_keys = settings.token_keys()  # the caller's directory entry comes with the runtime
    if runtime is not None:
        _serve_over(app, runtime)
    install_problem_handlers(app)
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_body_bytes, paths={UPLOADS_PATH: settings.upload_max_bytes}
    )
    app.include_router(health_router())
    app.include_router(router)
    app.include_router(attachments_router)
    app.include_router(directory_router)
    app.include_router(mail_router)
    app.include_router(alerts_router)
    app.include_router(imports_router)
    return app


def _serve_over(app: FastAPI, running: Runtime) -> None:
    """What the routes' dependencies read, in ``app.state``."""
    app.state.directory = running.directory
    app.state.bus = running.bus
    app.state.clock = running.clock
    app.state.rate_limiter = running.rate_limiter
    app.state.limiter = running.limiter
    app.state.status_labels = running.status_labels
    app.state.blobs = running.blobs
    app.state.uploads = running.uploads
    app.state.runtime = running
