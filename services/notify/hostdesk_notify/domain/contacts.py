"""What notify remembers of a ticket to address mail about it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from hostdesk_contracts.events import TicketOpened


@dataclass(frozen=True)
class TicketContact:
    """The few facts of a ticket that its mail needs, kept from its ``TicketOpened``."""

    ticket_id: UUID
    tenant: str
    number: int
    subject: str
    requester_email: str | None
    cc: tuple[str, ...] = ()


def contact_from_opened(event: TicketOpened) -> TicketContact:
    return TicketContact(
        ticket_id=event.ticket_id,
        tenant=event.tenant,
        number=event.number,
        subject=event.subject,
        requester_email=event.requester.email,
        cc=event.cc,
    )
