"""Intake's readiness, for Kubernetes probes, as its runtime tells it."""

from __future__ import annotations

from hostdesk_contracts.runtime.health import Readiness

from hostdesk_intake.api.deps import ReadinessDep


async def readiness(probe: ReadinessDep) -> Readiness:
    return await probe.readiness()
