"""What each ticket event does to the read model, and how a batch of events is planned in one pass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, assert_never
from uuid import UUID

from hostdesk_contracts.base import Priority, Rating, Status
from hostdesk_contracts.events import (
    AnyEvent,
    CategoryChanged,
    CcChanged,
    DepartmentChanged,
    PostsMerged,
    PriorityChanged,
    ReplyPosted,
    StatusChanged,
    TagsChanged,
    TicketArchived,
    TicketAssigned,
    TicketClosed,
    TicketEvent,
    TicketImported,
    TicketMerged,
    TicketOpened,
    TicketRated,
    TicketReopened,
)
from hostdesk_contracts.runtime.text import storable, storable_all, storable_or_none

from hostdesk_query.domain.gate import Decision, decide
from hostdesk_query.domain.language import language_of
from hostdesk_query.domain.model import TicketRecord, TimelineEntry
from hostdesk_query.domain.timeline import entries_of

# Every event the contracts publish (``hostdesk_contracts.events.EVENT_TYPES``), each with its own projection:
# a type added to the contracts fails the type check of ``_changed`` and ``entries_of`` until it has one.
KnownEvent = AnyEvent


@dataclass(frozen=True, slots=True)
class Change:
    """One event, as the read model needs it."""

    ticket_id: UUID
    version: int
    occurred_at: datetime
    event: KnownEvent | None = None  # None: an event of a type this service does not know, which only counts
    entries: tuple[TimelineEntry, ...] = ()  # what the event adds to the timeline

    @property
    def opens(self) -> bool:
        return isinstance(self.event, TicketOpened | TicketImported)


@dataclass(frozen=True, slots=True)
class BatchPlan:
    decisions: tuple[Decision, ...]  # one per change, in the order given
    created: tuple[TicketRecord, ...]  # tickets absent before the batch, in their final state
    updated: tuple[TicketRecord, ...]  # tickets present before the batch that changed, in their final state
    entries: tuple[TimelineEntry, ...]  # the timeline entries of the applied changes


def change_of(event: KnownEvent) -> Change:
    """The change a known event makes."""
    return Change(event.ticket_id, event.version, event.occurred_at, event=event, entries=entries_of(event))


def bump_of(envelope: TicketEvent) -> Change:
    """An event of a type this service does not know still counts one version of its ticket: without it, every
    later event of the ticket would wait for it for ever."""
    return Change(envelope.ticket_id, envelope.version, envelope.occurred_at)


def evolve(ticket: TicketRecord | None, change: Change) -> TicketRecord:
    """The ticket once ``change`` is applied. The version gate has said it applies."""
    event = change.event
    if isinstance(event, TicketOpened):
        return _opened(event)
    if isinstance(event, TicketImported):
        return _imported(event)
    if ticket is None:
        raise ValueError(f"ticket {change.ticket_id} does not exist: only an opening event can create it")
    changes = _Changes() if event is None else _changes(ticket, event)
    return ticket._replace(version=change.version, updated_at=change.occurred_at, **changes)


def _opened(event: TicketOpened | TicketImported) -> TicketRecord:
    return TicketRecord(
        ticket_id=event.ticket_id,
        tenant=event.tenant,
        number=event.number,
        subject=storable(event.subject),
        requester_id=storable(event.requester.account_id),
        requester_name=storable_or_none(event.requester.display_name),
        requester_email=storable_or_none(event.requester.email),
        requester_role=event.requester.role,
        status=event.status,
        priority=event.priority,
        department=storable_or_none(event.department),
        channel=event.channel,
        cc=storable_all(event.cc),
        related_service=storable_or_none(event.related_service) if isinstance(event, TicketOpened) else None,
        created_at=event.occurred_at,
        last_post_at=event.occurred_at,
        updated_at=event.occurred_at,
        version=event.version,
        category=storable_or_none(event.category),
        tags=storable_all(event.tags),
        assignee_id=None,
        assignee_name=None,
        archived=False,
        rating=None,
        rating_comment=None,
        status_label=None,
        merged_into_ticket_id=None,
        merged_into_number=None,
        handling_organisation_id=storable_or_none(event.handling_organisation_id),
        language=language_of(event.subject, _first_post(event)),
    )


def _first_post(event: TicketOpened | TicketImported) -> str:
    if isinstance(event, TicketOpened):
        return event.body
    return event.posts[0].body if event.posts else ""


def _imported(event: TicketImported) -> TicketRecord:
    """A ticket brought from the previous helpdesk: opened and last posted to when it was there."""
    return _opened(event)._replace(
        created_at=event.opened_at,
        last_post_at=max((post.occurred_at for post in event.posts), default=event.opened_at),
        archived=event.status is Status.CLOSED,
    )


class _Changes(TypedDict, total=False):
    """The fields of a ticket an event may change, beside its version and update time."""

    last_post_at: datetime
    status: Status
    status_label: str | None
    archived: bool
    merged_into_ticket_id: UUID | None
    merged_into_number: int | None
    assignee_id: str | None
    assignee_name: str | None
    priority: Priority
    department: str | None
    category: str | None
    cc: tuple[str, ...]
    tags: tuple[str, ...]
    rating: Rating | None
    rating_comment: str | None


def _changes(ticket: TicketRecord, event: KnownEvent) -> _Changes:
    """What ``event`` changes in the ticket's fields. The archive flag follows the contracts: closing, archiving
    and merging set it, reopening clears it."""
    match event:
        case TicketOpened() | TicketImported():  # makes a ticket: the version gate never applies one to a ticket
            raise ValueError(f"ticket {event.ticket_id} exists already")
        case ReplyPosted():
            return {"last_post_at": event.occurred_at}
        case PostsMerged():
            # Merged posts keep their own times, often older than this ticket's own last post.
            latest = max((post.occurred_at for post in event.posts), default=ticket.last_post_at)
            return {"last_post_at": max(ticket.last_post_at, latest)}
        case StatusChanged():
            return {"status": event.to_status, "status_label": storable_or_none(event.status_label)}
        case TicketClosed():
            return {"status": Status.CLOSED, "status_label": None, "archived": True}
        case TicketReopened():
            return {"status": Status.OPEN, "status_label": None, "archived": False}
        case TicketArchived():
            return {"archived": True}
        case TicketMerged():
            return {
                "status": Status.CLOSED,
                "status_label": None,
                "archived": True,
                "merged_into_ticket_id": event.into_ticket_id,
                "merged_into_number": event.into_number,
            }
        case TicketAssigned():
            assignee = event.assignee
            if assignee is None:
                return {"assignee_id": None, "assignee_name": None}
            return {
                "assignee_id": storable(assignee.account_id),
                "assignee_name": storable_or_none(assignee.display_name),
            }
        case PriorityChanged():
            return {"priority": event.to_priority}
        case DepartmentChanged():
            return {"department": storable(event.to_department)}
        case CategoryChanged():
            return {"category": storable(event.to_category)}
        case CcChanged():
            return {"cc": storable_all(event.cc)}
        case TagsChanged():
            return {"tags": storable_all(event.tags)}
        case TicketRated():
            return {"rating": event.rating, "rating_comment": storable_or_none(event.comment)}
        case _:
            assert_never(event)


def plan_batch(existing: Mapping[UUID, TicketRecord], changes: Sequence[Change]) -> BatchPlan:
    """Decide every change in delivery order, against the tickets as the earlier changes leave them."""
    state = dict(existing)
    touched: dict[UUID, TicketRecord] = {}
    decisions: list[Decision] = []
    entries: list[TimelineEntry] = []
    for change in changes:
        current = state.get(change.ticket_id)
        decision = decide(
            current_version=None if current is None else current.version,
            event_version=change.version,
            opens=change.opens,
        )
        decisions.append(decision)
        if decision is Decision.APPLY:
            state[change.ticket_id] = touched[change.ticket_id] = evolve(current, change)
            entries.extend(change.entries)
    # In the order of their ids (two writers lock rows in one order), sorted by the ids' integers: UUIDs compare
    # through a Python method: a tenth of a chunk's planning.
    ordered = sorted(touched.values(), key=lambda ticket: ticket.ticket_id.int)
    return BatchPlan(
        decisions=tuple(decisions),
        created=tuple(t for t in ordered if t.ticket_id not in existing),
        updated=tuple(t for t in ordered if t.ticket_id in existing),
        entries=tuple(entries),
    )
