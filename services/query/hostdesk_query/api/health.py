"""``/healthz``: the process answers. ``/readyz``: PostgreSQL and NATS answer too."""

from __future__ import annotations

from fastapi import APIRouter
from hostdesk_contracts.runtime.problems import Unavailable

from hostdesk_query.api.deps import HealthDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(health: HealthDep) -> dict[str, str]:
    unreachable = await health.unreachable()
    if unreachable:
        raise Unavailable(f"Not ready: {', '.join(unreachable)} unreachable.", unreachable=unreachable)
    return {"status": "ready"}
