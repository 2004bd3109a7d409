"""Ticket events: the public facts the tickets service publishes, one per stored event, in log order.

Each event carries the envelope of ``TicketEvent``. ``event_id`` is ``"<ticket_id>:<version>"``: the same
event always has the same id, so a subscriber de-duplicates on it. Within a type version, fields are only
ever added; a breaking change is a new type (``...v2``) published beside the old one.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, TypeAdapter

from hostdesk_contracts.base import Actor, Channel, Contract, Priority, Side, Status, Tenant, Visibility


def event_id_of(ticket_id: UUID, version: int) -> str:
    return f"{ticket_id}:{version}"


class TicketEvent(Contract):
    event_id: str
    ticket_id: UUID
    tenant: Tenant
    version: int = Field(ge=1, description="The ticket's version once this event is applied.")
    occurred_at: AwareDatetime
    actor: Actor
    side: Side
    command_id: str | None = Field(default=None, description="The command that caused this event.")


class TicketOpened(TicketEvent):
    type: Literal["ticket.opened.v1"] = "ticket.opened.v1"
    number: int = Field(description="The short ticket number, shown as #482913.")
    subject: str
    body: str
    post_id: str
    requester: Actor
    status: Status
    priority: Priority
    department: str | None = None
    channel: Channel
    cc: tuple[str, ...] = ()
    related_service: str | None = None


class ReplyPosted(TicketEvent):
    type: Literal["ticket.reply_posted.v1"] = "ticket.reply_posted.v1"
    post_id: str
    body: str
    visibility: Visibility


class StatusChanged(TicketEvent):
    type: Literal["ticket.status_changed.v1"] = "ticket.status_changed.v1"
    from_status: Status
    to_status: Status
    reason: str | None = None


class TicketClosed(TicketEvent):
    type: Literal["ticket.closed.v1"] = "ticket.closed.v1"
    from_status: Status
    reason: str | None = None


class TicketReopened(TicketEvent):
    type: Literal["ticket.reopened.v1"] = "ticket.reopened.v1"
    from_status: Status
    reason: str | None = None


AnyTicketEvent = Annotated[
    TicketOpened | ReplyPosted | StatusChanged | TicketClosed | TicketReopened, Field(discriminator="type")
]
EVENT_ADAPTER: TypeAdapter[TicketOpened | ReplyPosted | StatusChanged | TicketClosed | TicketReopened] = TypeAdapter(
    AnyTicketEvent
)
EVENT_TYPES: tuple[type[TicketEvent], ...] = (
    TicketOpened,
    ReplyPosted,
    StatusChanged,
    TicketClosed,
    TicketReopened,
)


def event_type_token(event: type[TicketEvent] | TicketEvent) -> str:
    """The event's ``type``, e.g. ``ticket.reply_posted.v1``."""
    event_class = event if isinstance(event, type) else type(event)
    type_token: str = event_class.model_fields["type"].default
    return type_token


def event_name(event: type[TicketEvent] | TicketEvent) -> str:
    """``ticket.reply_posted.v1`` -> ``reply_posted.v1``: the subject tokens naming the event's type."""
    return event_type_token(event).removeprefix("ticket.")
