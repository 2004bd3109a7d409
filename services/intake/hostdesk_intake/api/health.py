"""Intake's readiness, for Kubernetes probes. Intake has no database: ready means NATS is linked."""

from __future__ import annotations

from hostdesk_contracts.runtime.health import Readiness

from hostdesk_intake.api.dependencies import BusDep


async def readiness(bus: BusDep) -> Readiness:
    return Readiness(reasons=() if bus.ready else ("NATS is not reachable",))
