"""What the HTTP API answers. Built from the read model's records, never the records themselves."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from hostdesk_contracts.base import Channel, Priority, Role, Side, Status, Visibility
from pydantic import BaseModel, ConfigDict, Field

from hostdesk_query.domain.model import EntryKind, TicketRecord, TicketView, TimelineEntry


class TimelineOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True)


class Requester(Schema):
    account_id: str
    name: str | None
    email: str | None


class EntryActor(Schema):
    account_id: str
    name: str | None
    role: Role


class TicketOut(Schema):
    ticket_id: UUID
    number: int
    subject: str
    status: Status
    priority: Priority
    department: str | None
    channel: Channel
    requester: Requester
    cc: tuple[str, ...]
    related_service: str | None
    created_at: datetime
    last_post_at: datetime
    updated_at: datetime
    version: int = Field(description="The ticket's version: the number of events applied to it.")

    @classmethod
    def of(cls, ticket: TicketRecord) -> TicketOut:
        return cls(
            ticket_id=ticket.ticket_id,
            number=ticket.number,
            subject=ticket.subject,
            status=ticket.status,
            priority=ticket.priority,
            department=ticket.department,
            channel=ticket.channel,
            requester=Requester(
                account_id=ticket.requester_id, name=ticket.requester_name, email=ticket.requester_email
            ),
            cc=ticket.cc,
            related_service=ticket.related_service,
            created_at=ticket.created_at,
            last_post_at=ticket.last_post_at,
            updated_at=ticket.updated_at,
            version=ticket.version,
        )


class TimelineEntryOut(Schema):
    version: int
    kind: EntryKind
    occurred_at: datetime
    actor: EntryActor
    side: Side
    body: str | None = None
    visibility: Visibility | None = None
    post_id: str | None = None
    from_status: Status | None = None
    to_status: Status | None = None
    reason: str | None = None

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineEntryOut:
        return cls(
            version=entry.version,
            kind=entry.kind,
            occurred_at=entry.occurred_at,
            actor=EntryActor(account_id=entry.actor_id, name=entry.actor_name, role=entry.actor_role),
            side=entry.side,
            body=entry.body,
            visibility=entry.visibility,
            post_id=entry.post_id,
            from_status=entry.from_status,
            to_status=entry.to_status,
            reason=entry.reason,
        )


class TicketDetailOut(TicketOut):
    timeline: tuple[TimelineEntryOut, ...]

    @classmethod
    def of_view(cls, view: TicketView) -> TicketDetailOut:
        summary = TicketOut.of(view.ticket)
        return cls(**dict(summary), timeline=tuple(TimelineEntryOut.of(entry) for entry in view.timeline))


class TicketPage(Schema):
    items: tuple[TicketOut, ...]
    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next page; null on the last page.")
