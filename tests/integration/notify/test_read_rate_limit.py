"""Notify over real PostgreSQL and NATS counts each account's reads of the delivery log: past its burst, a 429
with Retry-After; other accounts are still served."""

from __future__ import annotations

import uuid

from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE
from hostdesk_notify.settings import Settings

from tests.integration.notify.harness import bearer, running_notify
from tests.support import BucketCallers

BURST = 3


async def test_delivery_log_reads_past_an_accounts_burst_answer_429_with_retry_after(
    notify_settings: Settings, tenant: str, callers: BucketCallers
) -> None:
    limited_settings = notify_settings.model_copy(update={"reads_per_minute": 0.6, "read_burst": BURST})
    deliveries = {"ticket_id": str(uuid.uuid4())}

    async with running_notify(limited_settings) as client:
        served = [
            await client.get("/v1/deliveries", params=deliveries, headers=await bearer(callers, tenant=tenant))
            for _ in range(BURST)
        ]
        limited = await client.get("/v1/deliveries", params=deliveries, headers=await bearer(callers, tenant=tenant))
        colleague = await client.get(
            "/v1/deliveries", params=deliveries, headers=await bearer(callers, tenant=tenant, account_id="agent-2")
        )
        health = await client.get("/healthz")

    assert all(response.status_code != 429 for response in served)
    assert limited.status_code == 429
    assert limited.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert int(limited.headers["Retry-After"]) >= 1
    assert colleague.status_code == served[0].status_code
    assert health.status_code == 200
