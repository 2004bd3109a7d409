"""Liveness and readiness, for Kubernetes probes. Intake has no database: ready means NATS is linked."""

from __future__ import annotations

from fastapi import APIRouter
from hostdesk_contracts.runtime.problems import Unavailable

from hostdesk_intake.api.dependencies import BusDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(bus: BusDep) -> dict[str, str]:
    if not bus.ready:
        raise Unavailable("NATS is not reachable.")
    return {"status": "ready"}
