"""Live updates: one change per event of the events stream, told to the callers who may see it.

A change names its ticket, the version it brought and what kind of change it was; a client reads the ticket
again (at that ``min_version``) for the rest. Its id is the event's sequence in the events stream, the same on
every replica: a client that reconnects names the last it received and is told every change after it.

Who is told is the rule of every read (``hostdesk_contracts.access``), on the ticket as it is once the change is
applied: a ticket transferred out of an agent's departments is no longer told to that agent. A change of the
handling side's own (an internal note, an assignment, tags) is told to the handling side only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from hostdesk_contracts.access import Reach
from hostdesk_contracts.base import Side, Visibility
from hostdesk_contracts.events import (
    PostsMerged,
    ReplyPosted,
    StatusChanged,
    TagsChanged,
    TicketAssigned,
    TicketClosed,
    TicketEvent,
    TicketImported,
    TicketMerged,
    TicketOpened,
    TicketReopened,
)

from hostdesk_query.domain.model import TicketRecord


class ChangeKind(StrEnum):
    OPENED = "opened"  # a new ticket
    POSTED = "posted"  # a public post
    NOTED = "noted"  # an internal note
    STATUS = "status"  # its status (closing and reopening included)
    ASSIGNED = "assigned"
    MERGED = "merged"  # merged into another, or another's posts merged into it
    UPDATED = "updated"  # any other field


def kind_of(event: TicketEvent) -> tuple[ChangeKind, bool]:
    """The kind of change ``event`` makes, and whether it is the handling side's own."""
    match event:
        case TicketOpened() | TicketImported():
            return ChangeKind.OPENED, False
        case ReplyPosted(visibility=Visibility.INTERNAL):
            return ChangeKind.NOTED, True
        case ReplyPosted():
            return ChangeKind.POSTED, False
        case StatusChanged() | TicketClosed() | TicketReopened():
            return ChangeKind.STATUS, False
        case TicketAssigned():
            return ChangeKind.ASSIGNED, True
        case TicketMerged() | PostsMerged():
            return ChangeKind.MERGED, False
        case TagsChanged():
            return ChangeKind.UPDATED, True
    return ChangeKind.UPDATED, False


@dataclass(frozen=True, slots=True)
class LiveChange:
    seq: int  # the event's sequence in the events stream
    kind: ChangeKind
    handling_only: bool
    ticket_id: UUID
    number: int
    version: int
    occurred_at: datetime
    # Who may see the ticket once the change is applied (``Reach.side``'s arguments).
    tenant: str
    requester_id: str
    handling_organisation_id: str | None
    department: str | None

    @classmethod
    def of(cls, seq: int, event: TicketEvent, ticket: TicketRecord) -> LiveChange:
        kind, handling_only = kind_of(event)
        return cls(
            seq=seq,
            kind=kind,
            handling_only=handling_only,
            ticket_id=event.ticket_id,
            number=ticket.number,
            version=event.version,
            occurred_at=event.occurred_at,
            tenant=ticket.tenant,
            requester_id=ticket.requester_id,
            handling_organisation_id=ticket.handling_organisation_id,
            department=ticket.department,
        )


def told_to(reach: Reach, change: LiveChange) -> bool:
    side = reach.side(
        tenant=change.tenant,
        requester_id=change.requester_id,
        handling_organisation_id=change.handling_organisation_id,
        department=change.department,
    )
    return side is Side.HANDLER or (side is Side.REQUESTER and not change.handling_only)
