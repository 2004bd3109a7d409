"""The FastAPI application without its connections: ``main.create_app`` adds the lifespan that makes them,
unit tests put fakes on ``app.state`` instead."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from hostdesk_contracts.runtime.health import health_router
from hostdesk_contracts.runtime.problems import BodySizeLimit, Unavailable, install_problem_handlers, problem_response

from hostdesk_query.adapters.ports import StoreUnavailable
from hostdesk_query.api import tickets
from hostdesk_query.api.health import readiness
from hostdesk_query.settings import Settings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


async def _on_store_unavailable(request: Request, error: Exception) -> JSONResponse:
    unavailable = Unavailable("The read model's database does not answer; try again shortly.")
    return problem_response(unavailable.problem(instance=request.url.path), unavailable.headers)


def build_api(settings: Settings, *, lifespan: Lifespan | None = None) -> FastAPI:
    app = FastAPI(
        title="HostDesk query",
        summary="Tickets and their timelines, as each caller may see them.",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.jwt_secret = settings.jwt_secret.get_secret_value()
    install_problem_handlers(app)
    app.add_exception_handler(StoreUnavailable, _on_store_unavailable)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(health_router(readiness))
    app.include_router(tickets.router)
    return app
