"""Notify's readiness: NATS connected, PostgreSQL answering, the consumer and the sender running."""

from __future__ import annotations

from hostdesk_contracts.runtime.health import Readiness

from hostdesk_notify.api.deps import ReadinessDep


async def readiness(probe: ReadinessDep) -> Readiness:
    return Readiness(reasons=await probe.unready_reasons())
