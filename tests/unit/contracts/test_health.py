"""Every service's ``/healthz`` and ``/readyz``: alive, and ready or not with every reason why."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from hostdesk_contracts.runtime.health import Readiness, health_router
from hostdesk_contracts.runtime.problems import install_problem_handlers


def _client(readiness: Readiness) -> httpx.AsyncClient:
    async def probe() -> Readiness:
        return readiness

    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(health_router(probe))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_ready_service_answers_200_with_no_reasons_and_its_details() -> None:
    async with _client(Readiness(details={"relay_leader": True})) as client:
        alive, ready = await client.get("/healthz"), await client.get("/readyz")

    assert (alive.status_code, ready.status_code) == (200, 200)
    assert ready.json() == {"status": "ready", "reasons": [], "relay_leader": True}


async def test_a_service_not_ready_answers_503_listing_every_reason() -> None:
    reasons = ["NATS is not connected", "PostgreSQL does not answer"]
    async with _client(Readiness(reasons=reasons, details={"relay_leader": False})) as client:
        alive, ready = await client.get("/healthz"), await client.get("/readyz")

    assert alive.status_code == 200
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.headers["retry-after"]
    assert ready.json()["reasons"] == reasons
    assert ready.json()["relay_leader"] is False
    assert ready.json()["detail"] == "Not ready: NATS is not connected; PostgreSQL does not answer."
