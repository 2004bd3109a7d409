"""What notify's integration tests share: running the app, publishing events as the relay does, peeking
at notify's tables."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.subjects import ES_POSITION, MSG_ID, Subjects, event_headers
from hostdesk_notify.main import create_app
from hostdesk_notify.settings import Settings
from nats.js import JetStreamContext

from tests.support import RELAY_SIGNER, BucketCallers

JWT_SECRET = "notify-integration-secret-0123456789abcdef"


@asynccontextmanager
async def running_notify(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Notify up, as its lifespan starts it (consumer and sender included); a client for its HTTP API."""
    app: FastAPI = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify") as client,
    ):
        yield client


async def bearer(
    callers: BucketCallers, *, tenant: str, role: Role = Role.AGENT, account_id: str = "agent-1"
) -> dict[str, str]:
    """The header of a caller recorded in the directory as ``account_id``, with ``role`` in ``tenant``."""
    return await callers.bearer(Actor(account_id=account_id, tenant=tenant, role=role), secret=JWT_SECRET)


class Relay:
    """Publishes events the way the tickets service's relay does: subject, payload and headers."""

    def __init__(self, js: JetStreamContext, subjects: Subjects) -> None:
        self.js = js
        self._subjects = subjects
        self._positions = itertools.count(1)

    async def publish(self, event: TicketEvent, *, msg_id: str | None = None) -> None:
        headers = event_headers(event, position=next(self._positions)) | ({MSG_ID: msg_id} if msg_id else {})
        subject = self._subjects.event(event.tenant, event)
        body = event.model_dump_json().encode()
        await self.js.publish(subject, body, headers=RELAY_SIGNER.signed(subject, headers, body))

    async def publish_raw(self, subject: str, payload: bytes, *, msg_id: str, signed: bool = True) -> None:
        headers = {MSG_ID: msg_id, ES_POSITION: str(next(self._positions))}
        await self.js.publish(
            subject, payload, headers=RELAY_SIGNER.signed(subject, headers, payload) if signed else headers
        )


class NotifyTables:
    """Read-only looks at notify's schema, for assertions."""

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self._pool = pool
        self._schema = schema

    async def outbox(self, ticket_id: Any) -> list[asyncpg.Record]:
        return await self._pool.fetch(
            f'SELECT * FROM "{self._schema}".outbox WHERE ticket_id = $1 ORDER BY created_at', ticket_id
        )

    async def dead_letters(self) -> list[asyncpg.Record]:
        return await self._pool.fetch(f'SELECT * FROM "{self._schema}".dead_letters ORDER BY id')

    async def handled(self, event_id: str) -> bool:
        query = f'SELECT EXISTS (SELECT 1 FROM "{self._schema}".inbox WHERE event_id = $1)'
        return bool(await self._pool.fetchval(query, event_id))
