"""The read model's records: a ticket as lists show it, and one entry of its timeline.

Each is a named tuple whose fields are its table's columns, in order: its values are its row. A catch-up makes
one of each for every event; a named tuple is made in a quarter of the time of a frozen dataclass of as many
fields, and copied with a change (``_replace``) in a sixth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple
from uuid import UUID

from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Channel, Priority, Rating, Role, Side, Status, Visibility

from hostdesk_query.domain.language import Language


class EntryKind(StrEnum):
    OPENED = "opened"
    POST = "post"
    STATUS_CHANGED = "status_changed"
    CLOSED = "closed"
    REOPENED = "reopened"
    ASSIGNED = "assigned"
    PRIORITY_CHANGED = "priority_changed"
    DEPARTMENT_CHANGED = "department_changed"
    CATEGORY_CHANGED = "category_changed"
    CC_CHANGED = "cc_changed"
    TAGS_CHANGED = "tags_changed"
    RATED = "rated"
    ARCHIVED = "archived"
    MERGED = "merged"  # this ticket went into another one
    MERGED_POST = "merged_post"  # a post of another ticket merged into this one, at its own time
    IMPORTED = "imported"  # the ticket was brought from the previous helpdesk (from_value: it; to_value: its id)
    IMPORTED_POST = "imported_post"  # a post it brought, at its own time, by its own author


class TicketRecord(NamedTuple):
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
    category: str | None
    tags: tuple[str, ...]
    assignee_id: str | None
    assignee_name: str | None
    archived: bool
    rating: Rating | None
    rating_comment: str | None
    status_label: str | None  # the provider's own label of the status, when it set one
    merged_into_ticket_id: UUID | None
    merged_into_number: int | None
    # The account the ticket is addressed to (``TicketOpened``); None: opened before the directory, so handled by
    # its tenant's provider (``hostdesk_contracts.access``).
    handling_organisation_id: str | None
    language: Language = Language.EN  # the language its words are stemmed in for search (``domain.language``)


class TimelineEntry(NamedTuple):
    """One line of a ticket's timeline. An event makes one entry (``part`` 0), except a merge of posts, which
    makes one per post (``part`` 0, 1, ...), each at the post's own time."""

    ticket_id: UUID
    version: int
    kind: EntryKind
    occurred_at: datetime
    actor_id: str
    actor_name: str | None
    actor_role: Role
    side: Side
    body: str | None = None
    visibility: Visibility | None = None  # internal: never shown to the requesting side
    post_id: str | None = None
    from_status: Status | None = None
    to_status: Status | None = None
    reason: str | None = None
    part: int = 0
    status_label: str | None = None
    from_value: str | None = None  # a single value changed: priority, department, category, assignee, rating
    to_value: str | None = None
    from_label: str | None = None  # the value's name, where it differs from the value (an assignee's name)
    to_label: str | None = None
    from_values: tuple[str, ...] | None = None  # a list changed: CC recipients, tags
    to_values: tuple[str, ...] | None = None
    related_ticket_id: UUID | None = None  # the other ticket of a merge
    related_number: int | None = None
    automatic: bool = False  # done by the system itself (a ticket closed after waiting on the requester)
    attachments: tuple[Attachment, ...] = ()  # a post's files, seen by whoever sees the post


@dataclass(frozen=True, slots=True)
class PostedFile:
    """A file of a post the reader may see: its record, and the tenant whose store holds its bytes."""

    tenant: str
    ticket_id: UUID
    attachment: Attachment


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket with a page of the part of its timeline the reader may see (``domain.paging``).

    ``positions`` are the entries' positions, one for each, in the same order; ``more`` says the timeline goes on
    past the page. Both follow from the entries and the window they were read in, so two views of the same ticket
    and entries are equal whatever window they came from.
    """

    ticket: TicketRecord
    timeline: tuple[TimelineEntry, ...]
    positions: tuple[int, ...] = field(default=(), compare=False)
    more: bool = field(default=False, compare=False)
