"""What the routes need, as ``Annotated`` dependencies read from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from hostdesk_contracts.base import Actor
from hostdesk_contracts.runtime.auth import ActorDep
from hostdesk_contracts.runtime.problems import NotFound

from hostdesk_notify.adapters.ports import NotifyStore


async def get_store(request: Request) -> NotifyStore:
    store: NotifyStore = request.app.state.store
    return store


async def staff_only(actor: ActorDep) -> Actor:
    """Staff endpoints do not exist for the requesting side: they answer 404, as for any unknown path."""
    if not actor.role.is_staff:
        raise NotFound("There is nothing here.")
    return actor


StoreDep = Annotated[NotifyStore, Depends(get_store)]
StaffDep = Annotated[Actor, Depends(staff_only)]
