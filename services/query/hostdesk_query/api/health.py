"""Query's readiness: PostgreSQL and NATS answer, and the consumer runs."""

from __future__ import annotations

from hostdesk_contracts.runtime.health import Readiness

from hostdesk_query.api.deps import HealthDep


async def readiness(health: HealthDep) -> Readiness:
    return Readiness(reasons=await health.unready_reasons())
