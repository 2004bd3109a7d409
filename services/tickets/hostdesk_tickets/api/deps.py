"""What the routes need, as ``Annotated`` dependencies read from ``app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hostdesk_tickets.service_layer.application import TicketsApplication


async def get_tickets(request: Request) -> TicketsApplication:
    tickets: TicketsApplication = request.app.state.tickets
    return tickets


TicketsDep = Annotated[TicketsApplication, Depends(get_tickets)]
