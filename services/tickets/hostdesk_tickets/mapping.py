"""The one place where stored events become public ticket events.

Stored events stay private to this service and may change shape (with upcasters); the public contract
changes only by addition. A test fails when a stored event class has no mapping here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from hostdesk_contracts.base import Actor, Side
from hostdesk_contracts.events import (
    ReplyPosted,
    StatusChanged,
    TicketClosed,
    TicketEvent,
    TicketOpened,
    TicketReopened,
    event_id_of,
)

from hostdesk_tickets.domain.ticket import Ticket


def _envelope(stored: Any) -> dict[str, Any]:
    actor = Actor.model_validate(stored.actor)
    ticket_id: UUID = stored.originator_id
    version: int = stored.originator_version
    occurred_at: datetime = stored.timestamp
    return {
        "event_id": event_id_of(ticket_id, version),
        "ticket_id": ticket_id,
        "tenant": actor.tenant,
        "version": version,
        "occurred_at": occurred_at,
        "actor": actor,
        "command_id": stored.command_id,
    }


def _opened(stored: Any) -> TicketOpened:
    return TicketOpened(
        **_envelope(stored),
        side=Side.REQUESTER,
        number=stored.number,
        subject=stored.subject,
        body=stored.body,
        post_id=stored.post_id,
        requester=Actor.model_validate(stored.requester),
        status="open",
        priority=stored.priority,
        department=stored.department,
        channel=stored.channel,
        cc=tuple(stored.cc),
        related_service=stored.related_service,
    )


def _reply_posted(stored: Any) -> ReplyPosted:
    return ReplyPosted(
        **_envelope(stored), side=stored.side, post_id=stored.post_id, body=stored.body, visibility=stored.visibility
    )


def _status_changed(stored: Any) -> StatusChanged:
    return StatusChanged(
        **_envelope(stored),
        side=stored.side,
        from_status=stored.from_status,
        to_status=stored.to_status,
        reason=stored.reason,
    )


def _closed(stored: Any) -> TicketClosed:
    return TicketClosed(**_envelope(stored), side=stored.side, from_status=stored.from_status, reason=stored.reason)


def _reopened(stored: Any) -> TicketReopened:
    return TicketReopened(**_envelope(stored), side=stored.side, from_status=stored.from_status, reason=stored.reason)


MAPPINGS: dict[type[Any], Callable[[Any], TicketEvent]] = {
    Ticket.Opened: _opened,  # type: ignore[attr-defined]
    Ticket.ReplyPosted: _reply_posted,  # type: ignore[attr-defined]
    Ticket.StatusChanged: _status_changed,  # type: ignore[attr-defined]
    Ticket.Closed: _closed,  # type: ignore[attr-defined]
    Ticket.Reopened: _reopened,  # type: ignore[attr-defined]
}


class UnmappedEvent(Exception):
    pass


def to_public(stored: DomainEventProtocol[UUID]) -> TicketEvent:
    try:
        mapping = MAPPINGS[type(stored)]
    except KeyError:
        raise UnmappedEvent(f"no public event for stored {type(stored).__qualname__}") from None
    return mapping(stored)
