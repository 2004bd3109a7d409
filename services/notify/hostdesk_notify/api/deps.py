"""What the routes need, as ``Annotated`` dependencies read from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from hostdesk_contracts.access import Reach, reach_of
from hostdesk_contracts.runtime.auth import ActorDep
from hostdesk_contracts.runtime.departments import DirectoryDepartments

from hostdesk_notify.adapters.ports import NotifyStore


async def get_store(request: Request) -> NotifyStore:
    store: NotifyStore = request.app.state.store
    return store


async def get_reach(request: Request, actor: ActorDep) -> Reach:
    """What the caller may read, by the one rule of ``hostdesk_contracts.access``, with the departments its
    organisation limits an agent to."""
    departments = await DirectoryDepartments(request.app.state.directory).limit_for(actor)
    return reach_of(actor, departments=departments)


StoreDep = Annotated[NotifyStore, Depends(get_store)]
ReachDep = Annotated[Reach, Depends(get_reach)]
