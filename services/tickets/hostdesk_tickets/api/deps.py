"""What the routes need, as ``Annotated`` dependencies read from ``app.state``."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request
from hostdesk_contracts.runtime.health import Readiness

from hostdesk_tickets.service_layer.application import TicketsApplication


class ReadinessProbe(Protocol):
    async def readiness(self) -> Readiness: ...


async def get_tickets(request: Request) -> TicketsApplication:
    tickets: TicketsApplication = request.app.state.tickets
    return tickets


async def get_readiness(request: Request) -> Readiness:
    """The service's readiness, as the shared health router asks it: NATS, the workers, the event store, and
    whether this replica leads the relay."""
    probe: ReadinessProbe = request.app.state.runtime
    return await probe.readiness()


TicketsDep = Annotated[TicketsApplication, Depends(get_tickets)]
