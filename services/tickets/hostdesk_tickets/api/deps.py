"""What the routes need, as ``Annotated`` dependencies read from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from hostdesk_contracts.runtime.auth import TicketsReaderDep
from hostdesk_contracts.runtime.directory import Directory
from hostdesk_contracts.runtime.rate_limit import RateLimitedActorDep

from hostdesk_tickets.service_layer.application import TicketsApplication


async def get_tickets(request: Request, _reader: TicketsReaderDep, _caller: RateLimitedActorDep) -> TicketsApplication:
    """The tickets application, reached by an authenticated caller (an API key with ``tickets:read``) within its
    account's rate: every route that reads tickets counts against it (health and readiness, which need neither,
    do not)."""
    tickets: TicketsApplication = request.app.state.tickets
    return tickets


TicketsDep = Annotated[TicketsApplication, Depends(get_tickets)]


async def get_directory(request: Request) -> Directory:
    """The directory the runtime follows, where a caller's reach (its departments) is looked up."""
    directory: Directory = request.app.state.directory
    return directory


DirectoryDep = Annotated[Directory, Depends(get_directory)]
