"""The read model's records: a ticket as lists show it, and one entry of its timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from hostdesk_contracts.base import Channel, Priority, Role, Side, Status, Visibility


class EntryKind(StrEnum):
    OPENED = "opened"
    POST = "post"
    STATUS_CHANGED = "status_changed"
    CLOSED = "closed"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class TicketRecord:
    ticket_id: UUID
    tenant: str
    number: int
    subject: str
    requester_id: str
    requester_name: str | None
    requester_email: str | None
    requester_role: Role
    status: Status
    priority: Priority
    department: str | None
    channel: Channel
    cc: tuple[str, ...]
    related_service: str | None
    created_at: datetime
    last_post_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    ticket_id: UUID
    version: int
    kind: EntryKind
    occurred_at: datetime
    actor_id: str
    actor_name: str | None
    actor_role: Role
    side: Side
    body: str | None = None
    visibility: Visibility | None = None
    post_id: str | None = None
    from_status: Status | None = None
    to_status: Status | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket with the part of its timeline the reader may see."""

    ticket: TicketRecord
    timeline: tuple[TimelineEntry, ...]
