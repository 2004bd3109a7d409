"""``GET /v1/tickets/{ticket_id}/history``: the ticket and its timeline as they were at a version or a moment.

The ticket is rebuilt from its own events (from the latest snapshot at or below the version asked for), so
it answers from the truth rather than from a read model. The caller sees what their side may see.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from hostdesk_contracts.base import Actor, Assignee, Channel, Priority, Rating, Side, Status
from hostdesk_contracts.events import EVENT_ADAPTER, AnyEvent, AnyTicketEvent
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.runtime.auth import ActorDep
from hostdesk_contracts.runtime.problems import NotFound
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.api.deps import TicketsDep
from hostdesk_tickets.domain.access import side_of
from hostdesk_tickets.domain.disclosure import timeline_for
from hostdesk_tickets.domain.errors import TicketNotFound
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication

router = APIRouter(prefix="/v1/tickets", tags=["history"])


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


@dataclass(frozen=True, slots=True)
class AsOf:
    """Which state of the ticket is asked for: at ``version``, at ``moment``, or (neither) now."""

    version: int | None = None
    moment: datetime | None = None


def read_history(app: TicketsApplication, ticket_id: UUID, caller: Actor, as_of: AsOf) -> History:
    """The ticket at ``as_of`` as ``caller`` may see it (synchronous: run it in a worker thread)."""
    try:
        current = app.get_ticket(ticket_id)
    except TicketNotFound:
        raise NotFound(f"There is no ticket {ticket_id}.") from None
    side = side_of(caller, tenant=current.tenant, requester_id=current.requester_id)
    if side is None:
        raise NotFound(f"There is no ticket {ticket_id}.")
    version = _version_asked(app, current, as_of)
    ticket = current if version == current.version else app.get_ticket(ticket_id, version=version)
    events: list[AnyEvent] = [
        EVENT_ADAPTER.validate_python(to_public(stored))
        for stored in app.repository.event_store.get(ticket_id, lte=version)
    ]
    fields = TicketState.fields_of(ticket)
    state: TicketState
    if side is Side.HANDLER:
        state = HandlerTicketState.model_validate({**fields, "tags": ticket.tags, "assignee": ticket.assignee})
    else:
        state = TicketState.model_validate(fields)
    return History(ticket=state, timeline=tuple(timeline_for(events, side)))


def _version_asked(app: TicketsApplication, current: Ticket, as_of: AsOf) -> int:
    if as_of.moment is not None:
        version = app.version_at(current.id, as_of.moment)
        if version is None:
            raise NotFound(f"Ticket #{current.number} did not exist yet at {as_of.moment.isoformat()}.")
        return version
    if as_of.version is not None and as_of.version > current.version:
        raise NotFound(f"Ticket #{current.number} is at version {current.version}; it has no version {as_of.version}.")
    return as_of.version or current.version


@router.get(
    "/{ticket_id}/history",
    response_model=History,
    responses={
        401: {"model": Problem, "description": "No valid bearer token."},
        404: {
            "model": Problem,
            "description": "No such ticket, not one the caller may see, or not at that version or moment.",
        },
        422: {"model": Problem, "description": "Invalid parameters, each named; or both version and at."},
    },
)
async def ticket_history(
    ticket_id: UUID,
    caller: ActorDep,
    tickets: TicketsDep,
    version: Annotated[int | None, Query(ge=1, description="The ticket as it was at this version.")] = None,
    at: Annotated[
        AwareDatetime | None, Query(description="The ticket as it was at this moment (ISO 8601, with its offset).")
    ] = None,
) -> History:
    """The ticket and its timeline as they were at ``version``, or at the moment ``at``, or (neither) now."""
    if version is not None and at is not None:
        raise RequestValidationError(
            [
                {"type": "value_error", "loc": ("query", name), "msg": "give either version or at, not both"}
                for name in ("version", "at")
            ]
        )
    return await asyncio.to_thread(read_history, tickets, ticket_id, caller, AsOf(version=version, moment=at))
