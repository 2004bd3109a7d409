"""Which events mail the requesting side, and at which addresses."""

from __future__ import annotations

import re
from enum import StrEnum

from hostdesk_contracts.base import Side, Visibility
from hostdesk_contracts.events import ReplyPosted, TicketClosed, TicketEvent

from hostdesk_notify.domain.contacts import TicketContact

# What an address must look like to be mailed: one "@", a dot in the domain, no spaces or line breaks.
# Events carry addresses as plain strings; anything that does not look like one is skipped, never sent.
_PLAUSIBLE_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class MailKind(StrEnum):
    STAFF_REPLY = "staff_reply"
    TICKET_CLOSED = "ticket_closed"


def mail_kind_for(event: TicketEvent) -> MailKind | None:
    """The mail an event sends, if any. Internal notes and the requester's own replies send none."""
    match event:
        case ReplyPosted(visibility=Visibility.PUBLIC, side=Side.HANDLER):
            return MailKind.STAFF_REPLY
        case TicketClosed():
            return MailKind.TICKET_CLOSED
    return None


def requesting_side(ticket: TicketContact) -> tuple[str, ...]:
    """The requester's address (when it has one) and the CC recipients, each address once, in that order;
    addresses that cannot be mailed are left out."""
    addresses = ([ticket.requester_email] if ticket.requester_email else []) + list(ticket.cc)
    seen: set[str] = set()
    unique: list[str] = []
    for address in (a.strip() for a in addresses):
        if _PLAUSIBLE_ADDRESS.fullmatch(address) and address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return tuple(unique)
