"""Intake served in process over an in-memory command bus and directory, and the bearer tokens of its callers
(each seeded in that directory)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from hostdesk_contracts.base import Actor, Role
from hostdesk_intake.adapters.fake_bus import FakeCommandBus
from hostdesk_intake.main import create_app
from hostdesk_intake.runtime import Runtime
from hostdesk_intake.settings import Settings

from tests.support import Callers

from .builders import NOW

SECRET = "unit-secret-0123456789abcdef0123456789"
CALLERS = Callers(SECRET)  # the directory every app served here reads


def token_for(account_id: str = "cust-1042", tenant: str = "acme", role: Role = Role.CUSTOMER) -> dict[str, str]:
    return CALLERS.bearer(Actor(account_id=account_id, tenant=tenant, role=role))


def settings(**overrides: object) -> Settings:
    return Settings.model_validate({"jwt_secret": SECRET, **overrides})


@asynccontextmanager
async def serving(
    bus: FakeCommandBus, *, monotonic: Callable[[], float] = time.monotonic, **overrides: object
) -> AsyncIterator[httpx.AsyncClient]:
    """Intake over ``bus``, its lifespan running, reached in process."""
    configured = settings(**overrides)
    app = create_app(
        configured,
        runtime=Runtime.over(bus, configured, directory=CALLERS.directory, clock=lambda: NOW, monotonic=monotonic),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client,
    ):
        yield client
