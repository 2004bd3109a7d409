"""What each side of a ticket is shown of its history.

The handling side sees every entry. The requesting side never sees internal notes (posted on the ticket or
merged in from another), nor the handling side's own entries: its tags and the assignment. Every other change
(status, priority, department, category, CC, archive, rating, merge) is a system entry both sides see.
"""

from __future__ import annotations

from collections.abc import Iterable

from hostdesk_contracts.base import Side, Visibility
from hostdesk_contracts.events import AnyEvent, PostsMerged, ReplyPosted, TagsChanged, TicketAssigned, TicketOpened


def as_seen_by(event: AnyEvent, side: Side) -> AnyEvent | None:
    """``event`` as ``side`` is shown it, or None when it is not shown to that side at all."""
    if side is Side.HANDLER:
        return event
    match event:
        case ReplyPosted(visibility=Visibility.INTERNAL) | TagsChanged() | TicketAssigned():
            return None
        case TicketOpened():
            return event.model_copy(update={"tags": ()})
        case PostsMerged():
            public = tuple(post for post in event.posts if post.visibility is Visibility.PUBLIC)
            return event.model_copy(update={"posts": public})
    return event


def timeline_for(events: Iterable[AnyEvent], side: Side) -> list[AnyEvent]:
    """The entries of ``events`` that ``side`` is shown, as it is shown them, in the same order."""
    shown = (as_seen_by(event, side) for event in events)
    return [event for event in shown if event is not None]
