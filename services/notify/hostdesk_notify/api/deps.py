"""What the routes need, as ``Annotated`` dependencies read from ``app.state``."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request
from hostdesk_contracts.base import Actor
from hostdesk_contracts.runtime.auth import ActorDep
from hostdesk_contracts.runtime.health import Readiness
from hostdesk_contracts.runtime.problems import NotFound

from hostdesk_notify.adapters.ports import NotifyStore


class ReadinessProbe(Protocol):
    async def readiness(self) -> Readiness: ...


async def get_store(request: Request) -> NotifyStore:
    store: NotifyStore = request.app.state.store
    return store


async def get_readiness(request: Request) -> Readiness:
    """Notify's readiness, as the shared health router asks it: NATS, PostgreSQL, the consumer and the sender."""
    probe: ReadinessProbe = request.app.state.runtime
    return await probe.readiness()


async def staff_only(actor: ActorDep) -> Actor:
    """Staff endpoints do not exist for the requesting side: they answer 404, as for any unknown path."""
    if not actor.role.is_staff:
        raise NotFound("There is nothing here.")
    return actor


StoreDep = Annotated[NotifyStore, Depends(get_store)]
StaffDep = Annotated[Actor, Depends(staff_only)]
