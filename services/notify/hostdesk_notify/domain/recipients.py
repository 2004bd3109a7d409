"""Which events mail the requesting side, and at which addresses.

CC recipients are addresses the requesting side may type in: they hear of what the handling side does in public
(its replies, a resolution, a close or a merge by staff, a close by the system on its behalf), never of the
requester's own actions (a close, a resolution or a reply by the requester). Otherwise a customer who opens,
closes and reopens tickets would have the product mail strangers of its choosing with no one at the provider
involved. The requester is still told of its own close or resolution, at the address of its own account.
"""

from __future__ import annotations

import re
from enum import StrEnum

from hostdesk_contracts.base import Role, Side, Status, Visibility
from hostdesk_contracts.events import ReplyPosted, StatusChanged, TicketClosed, TicketEvent, TicketMerged

from hostdesk_notify.domain.contacts import TicketContact

# What an address must look like to be mailed: one "@", a dot in the domain, no spaces or line breaks.
# Events carry addresses as plain strings; anything that does not look like one is skipped, never sent.
_PLAUSIBLE_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class MailKind(StrEnum):
    STAFF_REPLY = "staff_reply"
    TICKET_RESOLVED = "ticket_resolved"
    TICKET_CLOSED = "ticket_closed"
    TICKET_AUTO_CLOSED = "ticket_auto_closed"
    TICKET_MERGED = "ticket_merged"
    CUSTOMER_REPLY = "customer_reply"  # to the handling side

    @property
    def is_notice(self) -> bool:
        """A notice of a change, which no person wrote (the replies are people's words passed on)."""
        return self not in (MailKind.STAFF_REPLY, MailKind.CUSTOMER_REPLY)


def mail_kind_for(event: TicketEvent) -> MailKind | None:
    """The mail an event sends, if any. Internal notes, tags, assignment and the other changes send none."""
    match event:
        case ReplyPosted(visibility=Visibility.PUBLIC, side=Side.HANDLER):
            return MailKind.STAFF_REPLY
        case ReplyPosted(visibility=Visibility.PUBLIC, side=Side.REQUESTER):
            return MailKind.CUSTOMER_REPLY
        case StatusChanged(to_status=Status.RESOLVED, from_status=before) if before is not Status.RESOLVED:
            return MailKind.TICKET_RESOLVED  # a new label of a resolved ticket is no news to its requester
        case TicketClosed(automatic=True):
            return MailKind.TICKET_AUTO_CLOSED
        case TicketClosed():
            return MailKind.TICKET_CLOSED
        case TicketMerged():
            return MailKind.TICKET_MERGED
    return None


def recipients_of(kind: MailKind, ticket: TicketContact, *, event: TicketEvent) -> tuple[str, ...]:
    """A customer's reply goes to the handling side; every other mail to the requesting side: the CC recipients
    too when the handling side acted, the requester alone when the requester did."""
    if kind is MailKind.CUSTOMER_REPLY:
        return handling_side(ticket)
    return requesting_side(ticket) if by_handling_side(event) else _mailable([ticket.requester_email])


def by_handling_side(event: TicketEvent) -> bool:
    """Whether the handling side did what ``event`` tells: its staff, or the product itself acting for it (an
    automatic close), whichever side an older publisher named for the system."""
    return event.side is Side.HANDLER or event.actor.role is Role.SYSTEM


def requesting_side(ticket: TicketContact) -> tuple[str, ...]:
    """The requester's address (when it has one) and the CC recipients, each address once, in that order;
    addresses that cannot be mailed are left out."""
    return _mailable([ticket.requester_email, *ticket.cc])


def handling_side(ticket: TicketContact) -> tuple[str, ...]:
    """The assignee's address, when the ticket has an assignee with one. Without it nobody: the department's
    staff, who would be mailed instead, are not known to notify yet."""
    return _mailable([ticket.assignee_email])


def _mailable(addresses: list[str | None]) -> tuple[str, ...]:
    seen: set[str] = set()
    unique: list[str] = []
    for address in (a.strip() for a in addresses if a):
        if _PLAUSIBLE_ADDRESS.fullmatch(address) and address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return tuple(unique)
