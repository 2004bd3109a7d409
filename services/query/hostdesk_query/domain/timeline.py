"""The timeline entries each event adds: every post, and every change as a system entry with its actor, time and
the values it changed. The handling side's own changes (assignment, tags) are internal entries, which the
requesting side never reads, like internal notes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import assert_never
from uuid import UUID

from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Actor, Assignee, Side, Status, Visibility
from hostdesk_contracts.events import (
    AnyEvent,
    CategoryChanged,
    CcChanged,
    DepartmentChanged,
    MergedPost,
    PostsMerged,
    PriorityChanged,
    ReplyPosted,
    StatusChanged,
    TagsChanged,
    TicketArchived,
    TicketAssigned,
    TicketClosed,
    TicketEvent,
    TicketImported,
    TicketMerged,
    TicketOpened,
    TicketRated,
    TicketReopened,
)
from hostdesk_contracts.runtime.text import storable, storable_all, storable_or_none

from hostdesk_query.domain.model import EntryKind, TimelineEntry


def entries_of(event: AnyEvent) -> tuple[TimelineEntry, ...]:
    """The entries ``event`` adds to its ticket's timeline, in the order of their ``part``."""
    match event:
        case TicketOpened():
            opened = _entry(
                event,
                EntryKind.OPENED,
                body=event.body,
                visibility=Visibility.PUBLIC,
                post_id=event.post_id,
                to_status=event.status,
                attachments=event.attachments,
            )
            return (opened,)
        case ReplyPosted():
            post = _entry(
                event,
                EntryKind.POST,
                body=event.body,
                visibility=event.visibility,
                post_id=event.post_id,
                attachments=event.attachments,
            )
            return (post,)
        case PostsMerged():
            return tuple(_merged_post(event, part, post) for part, post in enumerate(event.posts))
        case TicketImported():
            imported = _entry(
                event,
                EntryKind.IMPORTED,
                visibility=Visibility.PUBLIC,
                from_value=event.source.system,
                to_value=event.source.ticket_id,
                to_status=event.status,
            )
            return (imported, *(_imported_post(event, part, post) for part, post in enumerate(event.posts, 1)))
        case StatusChanged():
            change = _entry(
                event,
                EntryKind.STATUS_CHANGED,
                from_status=event.from_status,
                to_status=event.to_status,
                status_label=event.status_label,
                reason=event.reason,
            )
        case TicketClosed():
            change = _entry(
                event,
                EntryKind.CLOSED,
                from_status=event.from_status,
                to_status=Status.CLOSED,
                reason=event.reason,
                automatic=event.automatic,
            )
        case TicketReopened():
            change = _entry(
                event, EntryKind.REOPENED, from_status=event.from_status, to_status=Status.OPEN, reason=event.reason
            )
        case TicketAssigned():
            change = _entry(
                event,
                EntryKind.ASSIGNED,
                visibility=Visibility.INTERNAL,
                from_value=_account_of(event.from_assignee),
                from_label=_name_of(event.from_assignee),
                to_value=_account_of(event.assignee),
                to_label=_name_of(event.assignee),
            )
        case PriorityChanged():
            change = _entry(
                event, EntryKind.PRIORITY_CHANGED, from_value=event.from_priority, to_value=event.to_priority
            )
        case DepartmentChanged():
            change = _entry(
                event, EntryKind.DEPARTMENT_CHANGED, from_value=event.from_department, to_value=event.to_department
            )
        case CategoryChanged():
            change = _entry(
                event, EntryKind.CATEGORY_CHANGED, from_value=event.from_category, to_value=event.to_category
            )
        case CcChanged():
            change = _entry(event, EntryKind.CC_CHANGED, from_values=event.from_cc, to_values=event.cc)
        case TagsChanged():
            change = _entry(
                event,
                EntryKind.TAGS_CHANGED,
                visibility=Visibility.INTERNAL,
                from_values=event.from_tags,
                to_values=event.tags,
            )
        case TicketRated():
            change = _entry(event, EntryKind.RATED, to_value=event.rating, body=event.comment)
        case TicketArchived():
            change = _entry(event, EntryKind.ARCHIVED, to_status=event.status)
        case TicketMerged():
            change = _entry(
                event,
                EntryKind.MERGED,
                from_status=event.from_status,
                to_status=Status.CLOSED,
                related_ticket_id=event.into_ticket_id,
                related_number=event.into_number,
            )
        case _:
            assert_never(event)
    return (change,)


def in_time_order(entries: Iterable[TimelineEntry], *, newest_first: bool) -> list[TimelineEntry]:
    """Oldest first (or newest first): posts merged from another ticket fall in place among this ticket's own,
    and entries of the same moment keep the order of their events."""
    return sorted(entries, key=lambda e: (e.occurred_at, e.version, e.part), reverse=newest_first)


def _merged_post(event: PostsMerged, part: int, post: MergedPost) -> TimelineEntry:
    return _post_of(
        event,
        EntryKind.MERGED_POST,
        part,
        post,
        related_ticket_id=event.from_ticket_id,
        related_number=event.from_number,
    )


def _imported_post(event: TicketImported, part: int, post: MergedPost) -> TimelineEntry:
    return _post_of(event, EntryKind.IMPORTED_POST, part, post)


def _post_of(
    event: TicketEvent,
    kind: EntryKind,
    part: int,
    post: MergedPost,
    *,
    related_ticket_id: UUID | None = None,
    related_number: int | None = None,
) -> TimelineEntry:
    """A post another event carries (merged in, or imported), at its own time, by its own author."""
    return _entry(
        event,
        kind,
        part=part,
        at=post.occurred_at,
        by=post.actor,
        side=post.side,
        body=post.body,
        visibility=post.visibility,
        post_id=post.post_id,
        attachments=post.attachments,
        related_ticket_id=related_ticket_id,
        related_number=related_number,
    )


def _account_of(assignee: Assignee | None) -> str | None:
    return None if assignee is None else assignee.account_id


def _name_of(assignee: Assignee | None) -> str | None:
    return None if assignee is None else assignee.display_name


def _entry(
    event: TicketEvent,
    kind: EntryKind,
    *,
    part: int = 0,
    at: datetime | None = None,
    by: Actor | None = None,
    side: Side | None = None,
    body: str | None = None,
    visibility: Visibility | None = None,
    post_id: str | None = None,
    from_status: Status | None = None,
    to_status: Status | None = None,
    reason: str | None = None,
    status_label: str | None = None,
    from_value: str | None = None,
    to_value: str | None = None,
    from_label: str | None = None,
    to_label: str | None = None,
    from_values: tuple[str, ...] | None = None,
    to_values: tuple[str, ...] | None = None,
    related_ticket_id: UUID | None = None,
    related_number: int | None = None,
    automatic: bool = False,
    attachments: tuple[Attachment, ...] = (),
) -> TimelineEntry:
    """An entry of ``event``, by its actor at its time unless told otherwise; every text made storable."""
    actor = by or event.actor
    return TimelineEntry(
        ticket_id=event.ticket_id,
        version=event.version,
        kind=kind,
        occurred_at=at or event.occurred_at,
        actor_id=storable(actor.account_id),
        actor_name=storable_or_none(actor.display_name),
        actor_role=actor.role,
        side=side or event.side,
        body=storable_or_none(body),
        visibility=visibility,
        post_id=storable_or_none(post_id),
        from_status=from_status,
        to_status=to_status,
        reason=storable_or_none(reason),
        part=part,
        status_label=storable_or_none(status_label),
        from_value=storable_or_none(from_value),
        to_value=storable_or_none(to_value),
        from_label=storable_or_none(from_label),
        to_label=storable_or_none(to_label),
        from_values=None if from_values is None else storable_all(from_values),
        to_values=None if to_values is None else storable_all(to_values),
        related_ticket_id=related_ticket_id,
        related_number=related_number,
        automatic=automatic,
        attachments=attachments,
    )
