"""What the HTTP surface answers: the history of a ticket, as the caller's side may see it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from hostdesk_contracts.base import Actor, Assignee, Channel, Priority, Rating, Side, Status
from hostdesk_contracts.events import AnyTicketEvent
from pydantic import BaseModel, ConfigDict, Field

from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.history import TicketThen


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True)


class RatingOut(Schema):
    rating: Rating
    comment: str | None


class TicketState(Schema):
    """The ticket as it was, as the requesting side sees it."""

    id: UUID
    number: int
    version: int = Field(description="The ticket's version then: the number of its events up to then.")
    status: Status
    status_label: str | None = Field(description="The provider's own label of the status, if it set one.")
    subject: str
    priority: Priority
    department: str | None
    category: str | None
    channel: Channel
    related_service: str | None
    cc: tuple[str, ...]
    archived: bool
    rating: RatingOut | None
    merged_into: UUID | None = Field(description="The ticket this one was merged into, if it was.")
    requester: Actor
    created_at: datetime
    updated_at: datetime

    @classmethod
    def fields_of(cls, ticket: Ticket) -> dict[str, object]:
        return {
            "id": ticket.id,
            "number": ticket.number,
            "version": ticket.version,
            "status": ticket.status,
            "status_label": ticket.status_label,
            "subject": ticket.subject,
            "priority": ticket.priority,
            "department": ticket.department,
            "category": ticket.category,
            "channel": ticket.channel,
            "related_service": ticket.related_service,
            "cc": tuple(ticket.cc),
            "archived": ticket.archived,
            "rating": ticket.rating,
            "merged_into": ticket.merged_into,
            "requester": ticket.requester,
            "created_at": ticket.created_on,
            "updated_at": ticket.modified_on,
        }


class HandlerTicketState(TicketState):
    """The ticket as it was, as the handling side sees it: with its tags and assignee."""

    tags: tuple[str, ...]
    assignee: Assignee | None = Field(description="Null when the ticket was unassigned.")


class History(Schema):
    ticket: HandlerTicketState | TicketState
    timeline: tuple[AnyTicketEvent, ...] = Field(
        description="The ticket's events up to its version then, oldest first, as the caller's side sees them."
    )

    @classmethod
    def of(cls, then: TicketThen) -> History:
        """The answer for ``then``: the handling side is shown the ticket's tags and assignee, the requesting
        side is not."""
        fields = TicketState.fields_of(then.ticket)
        state: TicketState
        if then.side is Side.HANDLER:
            state = HandlerTicketState.model_validate(
                {**fields, "tags": then.ticket.tags, "assignee": then.ticket.assignee}
            )
        else:
            state = TicketState.model_validate(fields)
        return cls(ticket=state, timeline=then.timeline)
