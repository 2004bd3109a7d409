"""What each ticket event does to the read model, and how a batch of events is planned in one pass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from hostdesk_contracts.base import Status, Visibility
from hostdesk_contracts.events import (
    ReplyPosted,
    StatusChanged,
    TicketClosed,
    TicketEvent,
    TicketOpened,
    TicketReopened,
)

from hostdesk_query.domain.gate import Decision, decide
from hostdesk_query.domain.model import EntryKind, TicketRecord, TimelineEntry

KnownEvent = TicketOpened | ReplyPosted | StatusChanged | TicketClosed | TicketReopened


@dataclass(frozen=True, slots=True)
class Change:
    """One event, as the read model needs it."""

    ticket_id: UUID
    version: int
    occurred_at: datetime
    opened: TicketRecord | None = None  # the ticket an opening event creates
    status: Status | None = None  # the status the event moves the ticket to
    is_post: bool = False
    entry: TimelineEntry | None = None  # None for an event of a type this service does not know

    @property
    def opens(self) -> bool:
        return self.opened is not None


@dataclass(frozen=True, slots=True)
class BatchPlan:
    decisions: tuple[Decision, ...]  # one per change, in the order given
    created: tuple[TicketRecord, ...]  # tickets absent before the batch, in their final state
    updated: tuple[TicketRecord, ...]  # tickets present before the batch that changed, in their final state
    entries: tuple[TimelineEntry, ...]  # the timeline entries of the applied changes


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL; a stray one in a mail body must not keep the ticket out of the read model.
    return value.replace("\x00", "\ufffd")


def _optional_text(value: str | None) -> str | None:
    return None if value is None else _text(value)


def _entry(
    event: TicketEvent,
    kind: EntryKind,
    *,
    body: str | None = None,
    visibility: Visibility | None = None,
    post_id: str | None = None,
    from_status: Status | None = None,
    to_status: Status | None = None,
    reason: str | None = None,
) -> TimelineEntry:
    return TimelineEntry(
        ticket_id=event.ticket_id,
        version=event.version,
        kind=kind,
        occurred_at=event.occurred_at,
        actor_id=_text(event.actor.account_id),
        actor_name=_optional_text(event.actor.display_name),
        actor_role=event.actor.role,
        side=event.side,
        body=_optional_text(body),
        visibility=visibility,
        post_id=post_id,
        from_status=from_status,
        to_status=to_status,
        reason=_optional_text(reason),
    )


def _opened(event: TicketOpened) -> Change:
    ticket = TicketRecord(
        ticket_id=event.ticket_id,
        tenant=event.tenant,
        number=event.number,
        subject=_text(event.subject),
        requester_id=_text(event.requester.account_id),
        requester_name=_optional_text(event.requester.display_name),
        requester_email=_optional_text(event.requester.email),
        requester_role=event.requester.role,
        status=event.status,
        priority=event.priority,
        department=_optional_text(event.department),
        channel=event.channel,
        cc=tuple(_text(address) for address in event.cc),
        related_service=_optional_text(event.related_service),
        created_at=event.occurred_at,
        last_post_at=event.occurred_at,
        updated_at=event.occurred_at,
        version=event.version,
    )
    entry = _entry(
        event,
        EntryKind.OPENED,
        body=event.body,
        visibility=Visibility.PUBLIC,
        post_id=event.post_id,
        to_status=event.status,
    )
    return Change(event.ticket_id, event.version, event.occurred_at, opened=ticket, is_post=True, entry=entry)


def change_of(event: KnownEvent) -> Change:
    """The change a known event makes."""
    ticket_id, version, at = event.ticket_id, event.version, event.occurred_at
    match event:
        case TicketOpened():
            return _opened(event)
        case ReplyPosted():
            entry = _entry(event, EntryKind.POST, body=event.body, visibility=event.visibility, post_id=event.post_id)
            return Change(ticket_id, version, at, is_post=True, entry=entry)
        case StatusChanged():
            entry = _entry(
                event,
                EntryKind.STATUS_CHANGED,
                from_status=event.from_status,
                to_status=event.to_status,
                reason=event.reason,
            )
            return Change(ticket_id, version, at, status=event.to_status, entry=entry)
        case TicketClosed() | TicketReopened():
            kind, to_status = (
                (EntryKind.CLOSED, Status.CLOSED)
                if isinstance(event, TicketClosed)
                else (EntryKind.REOPENED, Status.OPEN)
            )
            entry = _entry(event, kind, from_status=event.from_status, to_status=to_status, reason=event.reason)
            return Change(ticket_id, version, at, status=to_status, entry=entry)


def bump_of(envelope: TicketEvent) -> Change:
    """An event of a type this service does not know still counts one version of its ticket: without it, every
    later event of the ticket would wait for it for ever."""
    return Change(envelope.ticket_id, envelope.version, envelope.occurred_at)


def evolve(ticket: TicketRecord | None, change: Change) -> TicketRecord:
    """The ticket once ``change`` is applied. The version gate has said it applies."""
    if change.opened is not None:
        return change.opened
    if ticket is None:
        raise ValueError(f"ticket {change.ticket_id} does not exist: only an opening event can create it")
    return replace(
        ticket,
        version=change.version,
        updated_at=change.occurred_at,
        status=change.status or ticket.status,
        last_post_at=change.occurred_at if change.is_post else ticket.last_post_at,
    )


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
            if change.entry is not None:
                entries.append(change.entry)
    ordered = sorted(touched.values(), key=lambda ticket: ticket.ticket_id)
    return BatchPlan(
        decisions=tuple(decisions),
        created=tuple(t for t in ordered if t.ticket_id not in existing),
        updated=tuple(t for t in ordered if t.ticket_id in existing),
        entries=tuple(entries),
    )
