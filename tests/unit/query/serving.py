"""The query API served in process over the in-memory read model, directory and attachment store, and its callers'
requests (each caller seeded in that directory)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from hostdesk_contracts.base import Actor
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.blobs import MemoryBlobStore
from hostdesk_query.adapters.memory import InMemoryNotices, InMemoryReadModel, StaticConnection
from hostdesk_query.domain.projection import change_of
from hostdesk_query.main import create_app
from hostdesk_query.runtime import Runtime
from hostdesk_query.settings import Settings

from tests.support import Callers

SECRET = "unit-test-secret-0123456789abcdefghij"
TENANT = "acme"


@dataclass
class Api:
    client: httpx.AsyncClient
    store: InMemoryReadModel
    notices: InMemoryNotices
    nats: StaticConnection
    runtime: Runtime
    callers: Callers
    app: FastAPI
    blobs: MemoryBlobStore

    async def apply(self, *events: TicketEvent) -> None:
        await self.store.apply([change_of(event) for event in events])  # type: ignore[arg-type]

    async def get(self, path: str, caller: Actor, **params: object) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.callers.bearer(caller))


@asynccontextmanager
async def served_api() -> AsyncIterator[Api]:
    settings = Settings(
        HOSTDESK_JWT_SECRET=SECRET, read_your_writes_timeout_seconds=0.3, read_your_writes_poll_seconds=5.0
    )
    notices = InMemoryNotices()
    store = InMemoryReadModel(notices)
    nats = StaticConnection()
    blobs = MemoryBlobStore()
    callers = Callers(SECRET)
    runtime = Runtime(read_model=store, notices=notices, nats=nats, directory=callers.directory, blobs=blobs)
    app = create_app(settings, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://query") as client:
        yield Api(client, store, notices, nats, runtime, callers, app, blobs)
