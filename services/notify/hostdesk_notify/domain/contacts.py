"""What notify remembers of a ticket to address mail about it, kept current event by event, in order."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from uuid import UUID

from hostdesk_contracts.access import Reach
from hostdesk_contracts.base import Side
from hostdesk_contracts.events import (
    CcChanged,
    DepartmentChanged,
    TicketAssigned,
    TicketEvent,
    TicketImported,
    TicketOpened,
)
from hostdesk_contracts.runtime.text import storable, storable_all, storable_or_none


@dataclass(frozen=True, kw_only=True)
class TicketContact:
    """The few facts of a ticket that its mail and its delivery log need, as of ``version``: the last of the
    ticket's events handled. ``version`` None: a ticket remembered before notify counted versions, which takes its
    events as they come. ``requester_id`` None: a ticket remembered before notify bounded mail per requester.
    ``handling_organisation_id`` None: a ticket opened before the directory (or remembered before notify kept
    it), which its tenant's provider handles (``hostdesk_contracts.access``)."""

    ticket_id: UUID
    tenant: str
    number: int
    subject: str
    requester_email: str | None
    requester_id: str | None = None
    cc: tuple[str, ...] = ()
    assignee_id: str | None = None
    assignee_email: str | None = None
    version: int | None
    handling_organisation_id: str | None = None
    department: str | None = None


class Step(StrEnum):
    """What to do with an event, given what notify knows of its ticket."""

    APPLY = "apply"  # the ticket's next event
    ALREADY_APPLIED = "already_applied"
    EARLY = "early"  # an earlier event of the ticket has not been handled yet: handle this one after it


def step_for(known: TicketContact | None, event: TicketEvent) -> Step:
    """Each event is handled at its ticket's next version, so that a mail goes to the recipients the ticket
    has at the time of its event, however JetStream orders redeliveries or replicas share the stream."""
    if known is None:
        return Step.APPLY if isinstance(event, TicketOpened | TicketImported) else Step.EARLY
    if isinstance(event, TicketOpened | TicketImported):
        return Step.ALREADY_APPLIED
    if known.version is None or event.version == known.version + 1:
        return Step.APPLY
    return Step.ALREADY_APPLIED if event.version <= known.version else Step.EARLY


def contact_after(known: TicketContact | None, event: TicketEvent) -> TicketContact:
    """The ticket as it is once ``event`` happened; ``step_for`` said to apply it."""
    if isinstance(event, TicketOpened | TicketImported):
        return contact_from_opened(event)  # an imported ticket mails nobody, but its later posts do
    if known is None:
        raise ValueError(f"event {event.event_id} is about a ticket not opened yet")
    match event:
        case CcChanged(cc=cc):
            known = replace(known, cc=storable_all(cc))  # the new list replaces the old one whole
        case DepartmentChanged(to_department=department):
            known = replace(known, department=storable(department))
        case TicketAssigned(assignee=None):
            known = replace(known, assignee_id=None, assignee_email=None)
        case TicketAssigned(assignee=assignee) if assignee is not None:
            known = replace(
                known, assignee_id=storable(assignee.account_id), assignee_email=storable_or_none(assignee.email)
            )
    return replace(known, version=event.version)


def contact_from_opened(event: TicketOpened | TicketImported) -> TicketContact:
    return TicketContact(
        ticket_id=event.ticket_id,
        tenant=event.tenant,
        number=event.number,
        subject=storable(event.subject),
        requester_email=storable_or_none(event.requester.email),
        requester_id=storable(event.requester.account_id),
        cc=storable_all(event.cc),
        version=event.version,
        handling_organisation_id=storable_or_none(event.handling_organisation_id),
        department=storable_or_none(event.department),
    )


def handled_by(reach: Reach, ticket: TicketContact) -> bool:
    """Whether the caller of ``reach`` is on the ticket's handling side, by the one rule of who sees a ticket.
    A ticket remembered before notify knew its requester is matched on its handler alone: the requester never
    handles its own ticket, so the answer is the same."""
    side = reach.side(
        tenant=ticket.tenant,
        requester_id=ticket.requester_id or "",
        handling_organisation_id=ticket.handling_organisation_id,
        department=ticket.department,
    )
    return side is Side.HANDLER
