"""The query service over real PostgreSQL and NATS counts each account's reads: past its burst, a 429 with
Retry-After; other accounts, and the same account id in another tenant, are still served."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE
from hostdesk_contracts.subjects import Subjects
from hostdesk_query.main import create_app
from hostdesk_query.settings import Settings

from tests.support import BucketCallers

SECRET = "integration-test-secret-0123456789abcdef"
BURST = 3


async def bearer(callers: BucketCallers, *, tenant: str, account_id: str = "agent-7") -> dict[str, str]:
    return await callers.bearer(Actor(account_id=account_id, tenant=tenant, role=Role.AGENT), secret=SECRET)


@pytest.fixture
async def query(
    database_url: str, nats_url: str, declared_streams: Subjects, service_nats: Callable[[str], dict[str, str]]
) -> AsyncIterator[httpx.AsyncClient]:
    """Query as its lifespan starts it, each account allowed a burst of three reads and one more every 100 s."""
    settings = Settings(
        DATABASE_URL=database_url,
        NATS_URL=nats_url,
        HOSTDESK_JWT_SECRET=SECRET,
        HOSTDESK_SUBJECT_ROOT=declared_streams.root,
        **service_nats("query"),
        reads_per_minute=0.6,
        read_burst=BURST,
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://query") as client,
    ):
        yield client


async def test_reads_past_an_accounts_burst_answer_429_with_retry_after(
    query: httpx.AsyncClient, callers: BucketCallers
) -> None:
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    served = [await query.get("/v1/tickets", headers=await bearer(callers, tenant=tenant)) for _ in range(BURST)]

    limited = await query.get(f"/v1/tickets/{uuid.uuid4()}", headers=await bearer(callers, tenant=tenant))

    assert [response.status_code for response in served] == [200] * BURST
    assert limited.status_code == 429
    assert limited.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert limited.json()["type"] == "urn:hostdesk:problem:rate-limited"
    assert int(limited.headers["Retry-After"]) >= 1


async def test_another_account_of_the_tenant_and_one_of_another_tenant_are_still_served(
    query: httpx.AsyncClient, callers: BucketCallers
) -> None:
    tenant = f"tenant-{uuid.uuid4().hex[:8]}"
    for _ in range(BURST + 1):
        await query.get("/v1/tickets", headers=await bearer(callers, tenant=tenant))

    colleague = await query.get("/v1/tickets", headers=await bearer(callers, tenant=tenant, account_id="agent-8"))
    elsewhere = await query.get(
        "/v1/tickets", headers=await bearer(callers, tenant=f"{tenant}-other", account_id="agent-9")
    )
    health = await query.get("/healthz")

    assert (colleague.status_code, elsewhere.status_code, health.status_code) == (200, 200, 200)
