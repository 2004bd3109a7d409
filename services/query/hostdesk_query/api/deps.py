"""What routes receive, through ``Annotated`` dependencies on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from hostdesk_contracts.access import Reach, reach_of
from hostdesk_contracts.runtime.auth import ActorDep
from hostdesk_contracts.runtime.blobs import BlobStore

from hostdesk_query.adapters.departments import NoDepartmentLimit, StaffDepartments
from hostdesk_query.adapters.ports import TicketReader, VersionNotices
from hostdesk_query.settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_reader(request: Request) -> TicketReader:
    reader: TicketReader = request.app.state.reader
    return reader


async def get_notices(request: Request) -> VersionNotices:
    notices: VersionNotices = request.app.state.notices
    return notices


async def get_blobs(request: Request) -> BlobStore:
    blobs: BlobStore = request.app.state.blobs
    return blobs


async def get_staff_departments(request: Request) -> StaffDepartments:
    """``app.state.staff_departments`` when the app was given one, else a provider that limits nobody."""
    departments: StaffDepartments | None = getattr(request.app.state, "staff_departments", None)
    return NoDepartmentLimit() if departments is None else departments


StaffDepartmentsDep = Annotated[StaffDepartments, Depends(get_staff_departments)]


async def get_reach(actor: ActorDep, departments: StaffDepartmentsDep) -> Reach:
    """What the caller may read, by the one rule of ``hostdesk_contracts.access``."""
    return reach_of(actor, departments=await departments.limit_for(actor))


SettingsDep = Annotated[Settings, Depends(get_settings)]
ReaderDep = Annotated[TicketReader, Depends(get_reader)]
NoticesDep = Annotated[VersionNotices, Depends(get_notices)]
BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
ReachDep = Annotated[Reach, Depends(get_reach)]
