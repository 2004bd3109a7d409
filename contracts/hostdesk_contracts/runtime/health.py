"""``/healthz`` and ``/readyz``, one shape for every service.

``/healthz`` answers 200 while the process serves. ``/readyz`` asks the service's own check: 200 with no reasons
when ready, else a 503 problem that lists every reason; the check's details (the tickets service tells whether this
replica leads the relay) come with either answer.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependency built inside ``health_router``.

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request

from hostdesk_contracts.runtime.problems import Unavailable


@dataclass(frozen=True)
class Readiness:
    """Why the service is not ready (nothing when it is), and what else its probe tells."""

    reasons: Sequence[str] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not self.reasons


# A FastAPI dependency: it may itself take ``Request`` or other dependencies.
ReadinessCheck = Callable[..., Awaitable[Readiness]]


class ReadinessProbe(Protocol):
    """What a service's ``Runtime`` answers: whether it is ready, and why not."""

    async def readiness(self) -> Readiness: ...


async def runtime_readiness(request: Request) -> Readiness:
    """The readiness of the service's runtime, which ``create_app`` keeps on ``app.state.runtime``."""
    probe: ReadinessProbe = request.app.state.runtime
    return await probe.readiness()


def health_router(readiness: ReadinessCheck = runtime_readiness) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "Not ready: the problem lists every reason."}})
    async def readyz(probe: Annotated[Readiness, Depends(readiness)]) -> dict[str, Any]:
        if not probe.ready:
            reasons = list(probe.reasons)
            raise Unavailable(f"Not ready: {'; '.join(reasons)}.", reasons=reasons, **probe.details)
        return {"status": "ready", "reasons": [], **probe.details}

    return router
