"""The tickets service over real PostgreSQL and NATS counts each account's reads of ticket history: past its
burst, a 429 with Retry-After; other accounts are still served, and health is never counted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE
from hostdesk_tickets.main import create_app
from hostdesk_tickets.runtime import start
from hostdesk_tickets.settings import Settings

from tests.support import BucketCallers

BURST = 3


@pytest.fixture
async def tickets(tickets_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """The whole tickets service, each account allowed a burst of three reads and one more every 100 s."""
    settings = tickets_settings.model_copy(update={"reads_per_minute": 0.6, "read_burst": BURST})
    running = await start(settings)
    try:
        app = create_app(settings, runtime=running)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tickets") as client,
        ):
            yield client, settings
    finally:
        await running.stop()


async def bearer(
    callers: BucketCallers, settings: Settings, *, tenant: str, account_id: str = "agent-7"
) -> dict[str, str]:
    assert settings.jwt_secret is not None
    agent = Actor(account_id=account_id, tenant=tenant, role=Role.AGENT)
    return await callers.bearer(agent, secret=settings.jwt_secret.get_secret_value())


async def test_history_reads_past_an_accounts_burst_answer_429_with_retry_after(
    tickets: tuple[httpx.AsyncClient, Settings], tenant: str, callers: BucketCallers
) -> None:
    client, settings = tickets
    history = f"/v1/tickets/{uuid.uuid4()}/history"
    served = [await client.get(history, headers=await bearer(callers, settings, tenant=tenant)) for _ in range(BURST)]

    limited = await client.get(history, headers=await bearer(callers, settings, tenant=tenant))
    colleague = await client.get(history, headers=await bearer(callers, settings, tenant=tenant, account_id="agent-8"))
    health = await client.get("/healthz")

    assert [response.status_code for response in served] == [404] * BURST  # no such ticket, but served
    assert limited.status_code == 429
    assert limited.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert int(limited.headers["Retry-After"]) >= 1
    assert colleague.status_code == 404
    assert health.status_code == 200
