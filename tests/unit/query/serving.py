"""The query API served in process over the in-memory read model, and its callers' requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from hostdesk_contracts.base import Actor
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.auth import issue_token
from hostdesk_query.adapters.memory import InMemoryNotices, InMemoryReadModel, StaticConnection
from hostdesk_query.domain.projection import change_of
from hostdesk_query.main import create_app
from hostdesk_query.runtime import Runtime
from hostdesk_query.settings import Settings

SECRET = "unit-test-secret-0123456789abcdefghij"
TENANT = "acme"


@dataclass
class Api:
    client: httpx.AsyncClient
    store: InMemoryReadModel
    notices: InMemoryNotices
    nats: StaticConnection
    runtime: Runtime

    async def apply(self, *events: TicketEvent) -> None:
        await self.store.apply([change_of(event) for event in events])  # type: ignore[arg-type]

    async def get(self, path: str, caller: Actor, **params: object) -> httpx.Response:
        token = issue_token(
            secret=SECRET,
            account_id=caller.account_id,
            tenant=caller.tenant,
            role=caller.role,
            name=caller.display_name,
        )
        return await self.client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


@asynccontextmanager
async def served_api() -> AsyncIterator[Api]:
    settings = Settings(
        HOSTDESK_JWT_SECRET=SECRET, read_your_writes_timeout_seconds=0.3, read_your_writes_poll_seconds=5.0
    )
    notices = InMemoryNotices()
    store = InMemoryReadModel(notices)
    nats = StaticConnection()
    runtime = Runtime(read_model=store, notices=notices, nats=nats)
    app = create_app(settings, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://query") as client:
        yield Api(client, store, notices, nats, runtime)
