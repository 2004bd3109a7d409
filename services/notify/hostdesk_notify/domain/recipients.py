"""Which events mail whom, at which addresses, in which language.

The requesting side (the requester, and its CC recipients) hears of what the handling side does in public: its
replies, a ticket it opened to the requester, a resolution, a close or a merge by staff, a close by the system on
its behalf. CC recipients never hear of the requester's own actions (a close, a resolution or a reply by the
requester): otherwise a customer who opens, closes and reopens tickets would have the product mail strangers of
its choosing with no one at the provider involved. The requester is still told of its own close or resolution, at
the address of its own account. Mail to the requesting side speaks the requester's language, to its CC recipients
too.

The handling side hears of a new ticket and of a customer's public reply (``handling_side``): the assignee; else
the members of the ticket's department among the staff of the organisation it is addressed to; else all of that
organisation's staff; else, for an organisation without staff (a customer answering its subaccounts, a reseller
without support staff), that account's own notification address. Only those with an address who are not
disabled, each in its own language. Nobody left: the mail is kept, never sent, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hostdesk_contracts.base import Role, Side, Status, Visibility
from hostdesk_contracts.directory import AccountRecord, StaffRecord
from hostdesk_contracts.events import (
    ReplyPosted,
    StatusChanged,
    TicketClosed,
    TicketEvent,
    TicketMerged,
    TicketOpened,
)

from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.people import People, Principal

# What an address must look like to be mailed: one "@", a dot in the domain, no spaces or line breaks.
# Events and records carry addresses as plain strings; anything that does not look like one is skipped, never sent.
_PLAUSIBLE_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class MailKind(StrEnum):
    STAFF_REPLY = "staff_reply"
    NEW_TICKET_FOR_REQUESTER = "new_ticket_for_requester"  # the handling side opened it to an account below it
    TICKET_RESOLVED = "ticket_resolved"
    TICKET_CLOSED = "ticket_closed"
    TICKET_AUTO_CLOSED = "ticket_auto_closed"
    TICKET_MERGED = "ticket_merged"
    NEW_TICKET = "new_ticket"  # to the handling side
    CUSTOMER_REPLY = "customer_reply"  # to the handling side

    @property
    def is_notice(self) -> bool:
        """A notice of a change, which no person wrote (the replies and new tickets are people's words passed on)."""
        return self not in _WORDS

    @property
    def to_handling_side(self) -> bool:
        return self in (MailKind.NEW_TICKET, MailKind.CUSTOMER_REPLY)


_WORDS = frozenset(
    {MailKind.STAFF_REPLY, MailKind.NEW_TICKET_FOR_REQUESTER, MailKind.NEW_TICKET, MailKind.CUSTOMER_REPLY}
)


class Route(StrEnum):
    """Why a recipient is mailed, which the mail tells it in its last line."""

    REQUESTER = "requester"  # the requesting side: the requester and its CC recipients
    ASSIGNEE = "assignee"
    DEPARTMENT = "department"  # a member of the ticket's department
    SUPPORT_TEAM = "support_team"  # any of the organisation's staff: the ticket's department has no one to mail
    ACCOUNT = "account"  # the notification address of an organisation without staff


@dataclass(frozen=True, slots=True)
class Recipient:
    """An address to mail, the language to write to it in (None: the installation's) and why it is mailed."""

    address: str
    language: str | None
    route: Route


@dataclass(frozen=True, slots=True)
class Addressed:
    """Whom one event's mail goes to, each address once; ``nobody_because`` says why nobody, when nobody is."""

    recipients: tuple[Recipient, ...]
    nobody_because: str | None = None


def mail_kind_for(event: TicketEvent) -> MailKind | None:
    """The mail an event sends, if any. Internal notes, tags, assignment and the other changes send none."""
    match event:
        case TicketOpened(side=Side.HANDLER):
            return MailKind.NEW_TICKET_FOR_REQUESTER  # as a reply of the handling side would
        case TicketOpened():
            return MailKind.NEW_TICKET
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


def recipients_of(kind: MailKind, ticket: TicketContact, *, event: TicketEvent, people: People) -> Addressed:
    """A new ticket and a customer's reply go to the handling side; every other mail to the requesting side: the
    CC recipients too when the handling side acted, the requester alone when the requester did."""
    if kind.to_handling_side:
        return handling_side(ticket, people)
    language = people.requester.language.value if people.requester is not None else None
    addresses = requesting_side(ticket) if by_handling_side(event) else _mailable([ticket.requester_email])
    return Addressed(tuple(Recipient(address, language, Route.REQUESTER) for address in addresses))


def by_handling_side(event: TicketEvent) -> bool:
    """Whether the handling side did what ``event`` tells: its staff, or the product itself acting for it (an
    automatic close), whichever side an older publisher named for the system."""
    return event.side is Side.HANDLER or event.actor.role is Role.SYSTEM


def requesting_side(ticket: TicketContact) -> tuple[str, ...]:
    """The requester's address (when it has one) and the CC recipients, each address once, in that order;
    addresses that cannot be mailed are left out."""
    return _mailable([ticket.requester_email, *ticket.cc])


def handling_side(ticket: TicketContact, people: People) -> Addressed:
    """The assignee, when it can be mailed; else the organisation's staff (``_staff_recipients``); else, when the
    organisation has no staff at all, its own account's address."""
    assignee = _assignee(ticket, people.assignee)
    if assignee is not None:
        return Addressed((assignee,))
    organisation = ticket.handling_organisation_id or ticket.tenant
    if people.staff:
        staff = _staff_recipients(people.staff, department=ticket.department)
        if staff:
            return Addressed(staff)
        return Addressed((), f"no member of the staff of {organisation} can be mailed (no address, or disabled)")
    return _organisation_account(organisation, people.organisation)


def _organisation_account(organisation: str, account: AccountRecord | None) -> Addressed:
    """ISPmanager: "all the tickets submitted to him by other accounts will be automatically sent to a specified
    e-mail address", unless the account is disabled."""
    if account is None:
        return Addressed((), f"{organisation} has no staff and is not in the directory")
    if account.disabled:
        return Addressed((), f"{organisation} has no staff and is disabled")
    address = _plausible(account.email)
    if address is None:
        return Addressed((), f"{organisation} has no staff and no notification address")
    return Addressed((Recipient(address, account.language.value, Route.ACCOUNT),))


def _assignee(ticket: TicketContact, record: Principal | None) -> Recipient | None:
    """The assignee as the directory has it now (its address, its language, not disabled); the address the ticket
    kept for an assignee the directory does not hold (assigned before the directory)."""
    if ticket.assignee_id is None:
        return None
    if record is None:
        address = _plausible(ticket.assignee_email)
        return None if address is None else Recipient(address, None, Route.ASSIGNEE)
    address = _plausible(record.email)
    if record.disabled or address is None:
        return None
    return Recipient(address, record.language.value, Route.ASSIGNEE)


def _staff_recipients(staff: Iterable[StaffRecord], *, department: str | None) -> tuple[Recipient, ...]:
    """The members of ``department`` who can be mailed; when it is None or none of them can, every member of staff
    who can, so that nothing unrouted goes unseen."""
    reachable = [(member, address) for member in staff if (address := _mailable_member(member)) is not None]
    members = [(m, a) for m, a in reachable if department is not None and department in m.departments]
    chosen, route = (members, Route.DEPARTMENT) if members else (reachable, Route.SUPPORT_TEAM)
    seen: set[str] = set()
    recipients: list[Recipient] = []
    for member, address in chosen:
        if address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(Recipient(address, member.language.value, route))
    return tuple(recipients)


def _mailable_member(member: StaffRecord) -> str | None:
    return None if member.disabled else _plausible(member.email)


def _plausible(address: str | None) -> str | None:
    if address is None:
        return None
    address = address.strip()
    return address if _PLAUSIBLE_ADDRESS.fullmatch(address) else None


def _mailable(addresses: list[str | None]) -> tuple[str, ...]:
    seen: set[str] = set()
    unique: list[str] = []
    for address in (_plausible(a) for a in addresses):
        if address is not None and address.lower() not in seen:
            seen.add(address.lower())
            unique.append(address)
    return tuple(unique)
