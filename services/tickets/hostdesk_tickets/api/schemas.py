"""What the HTTP surface answers: the history of a ticket, as the caller's side may see it."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from uuid import UUID

from hostdesk_contracts.base import Actor, Assignee, Channel, Priority, Rating, Side, Status
from hostdesk_contracts.events import AnyEvent, AnyTicketEvent
from pydantic import BaseModel, ConfigDict, Field

from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.history import Entry, TicketThen


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True)


class RatingOut(Schema):
    rating: Rating
    comment: str | None


class TicketState(Schema):
    """The ticket as it was, as the requesting side sees it: without its version (``service_layer.history``)."""

    id: UUID
    number: int
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
    """The ticket as it was, as the handling side sees it: with its version, tags and assignee."""

    version: int = Field(description="The ticket's version then: the number of its events up to then.")
    tags: tuple[str, ...]
    assignee: Assignee | None = Field(description="Null when the ticket was unassigned.")


class RequesterEntry(Schema):
    """An entry of the requesting side's timeline: the event as that side is shown it, its own fields as the
    event's ``type`` has them, without the log's version, the event id (which names the version) or the command
    that caused it."""

    model_config = ConfigDict(frozen=True, extra="allow")

    position: int = Field(description="The entry's place in the caller's timeline, from 1.")
    type: str
    ticket_id: UUID
    occurred_at: datetime
    actor: Actor
    side: Side

    @classmethod
    def of(cls, entry: Entry) -> RequesterEntry:
        fields = entry.event.model_dump(mode="json", exclude=_THE_LOGS_OWN)
        return cls.model_validate({**fields, "position": entry.position})


_THE_LOGS_OWN = {"event_id", "version", "command_id"}


class History(Schema):
    ticket: HandlerTicketState | TicketState
    timeline: tuple[AnyTicketEvent, ...] | tuple[RequesterEntry, ...] = Field(
        description="A page of the ticket's entries up to then, oldest first, as the caller's side sees them: the "
        "events themselves for the handling side, whose positions are their versions."
    )
    timeline_next_cursor: str | None = Field(
        description="Pass as ``timeline_cursor`` for the next page of the timeline; null on its last page."
    )

    @classmethod
    def of(cls, then: TicketThen) -> History:
        """The answer for ``then``: the handling side is shown the ticket's version, tags and assignee and the
        events as recorded; the requesting side is shown none of these, and its entries by their positions."""
        fields = TicketState.fields_of(then.ticket)
        state: TicketState
        timeline: tuple[AnyEvent, ...] | tuple[RequesterEntry, ...]
        if then.side is Side.HANDLER:
            state = HandlerTicketState.model_validate(
                {**fields, "version": then.ticket.version, "tags": then.ticket.tags, "assignee": then.ticket.assignee}
            )
            timeline = tuple(entry.event for entry in then.timeline)
        else:
            state = TicketState.model_validate(fields)
            timeline = tuple(RequesterEntry.of(entry) for entry in then.timeline)
        following = None if then.next_after is None else timeline_cursor_of(then.next_after)
        return cls(ticket=state, timeline=timeline, timeline_next_cursor=following)


def timeline_cursor_of(position: int) -> str:
    """The opaque cursor of the page after ``position``."""
    return base64.urlsafe_b64encode(json.dumps({"p": position}).encode()).rstrip(b"=").decode()


def position_of(cursor: str) -> int:
    """The position ``cursor`` names; ``ValueError`` if this service did not make it."""
    if len(cursor) > _MAX_CURSOR_LENGTH:
        raise ValueError(_FOREIGN)
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as error:  # binascii.Error and UnicodeDecodeError are ValueErrors too
        raise ValueError(_FOREIGN) from error
    position = payload.get("p") if isinstance(payload, dict) else None
    if type(position) is not int or position < 1:  # not a bool either
        raise ValueError(_FOREIGN)
    return position


_MAX_CURSOR_LENGTH = 100
_FOREIGN = "the cursor is not one this service made"
