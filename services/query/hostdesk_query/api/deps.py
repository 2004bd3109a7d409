"""What routes receive, through ``Annotated`` dependencies on ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from hostdesk_contracts.runtime.auth import ActorDep

from hostdesk_query.adapters.ports import TicketReader, VersionNotices
from hostdesk_query.domain.visibility import ReadScope, scope_of
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


async def get_scope(actor: ActorDep) -> ReadScope:
    return scope_of(actor)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ReaderDep = Annotated[TicketReader, Depends(get_reader)]
NoticesDep = Annotated[VersionNotices, Depends(get_notices)]
ScopeDep = Annotated[ReadScope, Depends(get_scope)]
