"""Ticket events: the public facts the tickets service publishes, one per stored event, in log order.

Each event carries the envelope of ``TicketEvent``. ``event_id`` is ``"<ticket_id>:<version>"``: the same
event always has the same id, so a subscriber de-duplicates on it. Within a type version, fields are only
ever added; a breaking change is a new type (``...v2``) published beside the old one.

The archived flag follows from the events: ``closed``, ``archived`` and ``merged`` put a ticket in the archive,
``reopened`` takes it out (a post to a closed or archived ticket reopens it as ``open``).
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, TypeAdapter

from hostdesk_contracts.attachments import Attachments
from hostdesk_contracts.base import (
    Actor,
    Assignee,
    Channel,
    Contract,
    Priority,
    Rating,
    Side,
    Status,
    Tenant,
    Visibility,
)


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
    category: str | None = None
    channel: Channel
    cc: tuple[str, ...] = ()
    related_service: str | None = None
    tags: tuple[str, ...] = ()
    handling_organisation_id: str | None = Field(
        default=None,
        description="The account the ticket is addressed to; None for a ticket opened before the directory, "
        "which its tenant's provider handles.",
    )
    attachments: Attachments = Field(default=(), description="The files of the first post (never their bytes).")


class ReplyPosted(TicketEvent):
    type: Literal["ticket.reply_posted.v1"] = "ticket.reply_posted.v1"
    post_id: str
    body: str
    visibility: Visibility
    attachments: Attachments = Field(default=(), description="The post's files (never their bytes).")


class StatusChanged(TicketEvent):
    type: Literal["ticket.status_changed.v1"] = "ticket.status_changed.v1"
    from_status: Status
    to_status: Status
    status_label: str | None = Field(default=None, description="The provider's own label of the new status.")
    reason: str | None = None


class TicketClosed(TicketEvent):
    """The ticket is closed and in the archive."""

    type: Literal["ticket.closed.v1"] = "ticket.closed.v1"
    from_status: Status
    reason: str | None = None
    automatic: bool = Field(default=False, description="Closed by the system, the requester having left it.")


class TicketReopened(TicketEvent):
    type: Literal["ticket.reopened.v1"] = "ticket.reopened.v1"
    from_status: Status
    reason: str | None = None


class TicketAssigned(TicketEvent):
    type: Literal["ticket.assigned.v1"] = "ticket.assigned.v1"
    assignee: Assignee | None = Field(description="None: the ticket is unassigned.")
    from_assignee: Assignee | None = None


class PriorityChanged(TicketEvent):
    type: Literal["ticket.priority_changed.v1"] = "ticket.priority_changed.v1"
    from_priority: Priority
    to_priority: Priority


class DepartmentChanged(TicketEvent):
    """The ticket is transferred to another department."""

    type: Literal["ticket.department_changed.v1"] = "ticket.department_changed.v1"
    from_department: str | None
    to_department: str


class CategoryChanged(TicketEvent):
    type: Literal["ticket.category_changed.v1"] = "ticket.category_changed.v1"
    from_category: str | None
    to_category: str


class CcChanged(TicketEvent):
    type: Literal["ticket.cc_changed.v1"] = "ticket.cc_changed.v1"
    from_cc: tuple[str, ...]
    cc: tuple[str, ...]


class TagsChanged(TicketEvent):
    """Tags are the handling side's own: never shown to the requesting side."""

    type: Literal["ticket.tags_changed.v1"] = "ticket.tags_changed.v1"
    from_tags: tuple[str, ...]
    tags: tuple[str, ...]


class TicketRated(TicketEvent):
    type: Literal["ticket.rated.v1"] = "ticket.rated.v1"
    rating: Rating
    comment: str | None = None


class TicketArchived(TicketEvent):
    type: Literal["ticket.archived.v1"] = "ticket.archived.v1"
    status: Status = Field(description="The ticket's status, which archiving keeps.")


class TicketMerged(TicketEvent):
    """This ticket was merged into another: it is closed, archived, and links to the target."""

    type: Literal["ticket.merged.v1"] = "ticket.merged.v1"
    from_status: Status
    into_ticket_id: UUID
    into_number: int


class MergedPost(Contract):
    post_id: str
    occurred_at: AwareDatetime
    actor: Actor
    side: Side
    body: str
    visibility: Visibility
    attachments: Attachments = ()


class PostsMerged(TicketEvent):
    """Another ticket's posts join this one's timeline, each at its own time."""

    type: Literal["ticket.posts_merged.v1"] = "ticket.posts_merged.v1"
    from_ticket_id: UUID
    from_number: int
    posts: tuple[MergedPost, ...]


class ImportedFrom(Contract):
    system: str = Field(description="The previous helpdesk (whmcs, osticket, zammad...).")
    ticket_id: str = Field(description="The ticket's id there.")


class TicketImported(TicketEvent):
    """A ticket brought from the previous helpdesk, whole: its number, requester, posts (each at its own time, by
    its own author) and status as they were there. The event's own ``occurred_at`` is when it was imported;
    ``opened_at`` and each post's ``occurred_at`` are the history it brings. Nobody is mailed for it."""

    type: Literal["ticket.imported.v1"] = "ticket.imported.v1"
    source: ImportedFrom
    number: int
    subject: str
    requester: Actor
    status: Status
    priority: Priority
    department: str | None = None
    category: str | None = None
    channel: Channel
    cc: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    handling_organisation_id: str | None = None
    opened_at: AwareDatetime = Field(description="When it was opened in the previous helpdesk.")
    posts: tuple[MergedPost, ...] = Field(description="Every post, oldest first; the first opened the ticket.")
    message_ids: tuple[str, ...] = Field(
        default=(), description="Message-IDs of the mail already sent about it, without brackets."
    )


AnyEvent = (
    TicketOpened
    | ReplyPosted
    | StatusChanged
    | TicketClosed
    | TicketReopened
    | TicketAssigned
    | PriorityChanged
    | DepartmentChanged
    | CategoryChanged
    | CcChanged
    | TagsChanged
    | TicketRated
    | TicketArchived
    | TicketMerged
    | PostsMerged
    | TicketImported
)
AnyTicketEvent = Annotated[AnyEvent, Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyTicketEvent)
EVENT_TYPES: tuple[type[TicketEvent], ...] = (
    TicketOpened,
    ReplyPosted,
    StatusChanged,
    TicketClosed,
    TicketReopened,
    TicketAssigned,
    PriorityChanged,
    DepartmentChanged,
    CategoryChanged,
    CcChanged,
    TagsChanged,
    TicketRated,
    TicketArchived,
    TicketMerged,
    PostsMerged,
    TicketImported,
)


def event_type_token(event: type[TicketEvent] | TicketEvent) -> str:
    """The event's ``type``, e.g. ``ticket.reply_posted.v1``."""
    event_class = event if isinstance(event, type) else type(event)
    type_token: str = event_class.model_fields["type"].default
    return type_token


def event_name(event: type[TicketEvent] | TicketEvent) -> str:
    """``ticket.reply_posted.v1`` -> ``reply_posted.v1``: the subject tokens naming the event's type."""
    return event_type_token(event).removeprefix("ticket.")
