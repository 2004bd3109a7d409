"""A ticket's timeline comes in pages, so that an answer stays bounded however long the ticket lives.

An entry's *position* is its place among the entries the reader may see, in the order the log made them
(version, then part), counted from 1. It is the only number of an entry the requesting side is shown: the log's
versions count the handling side's own events too (internal notes, tags, assignments...), so per-entry
versions would tell the requester that such events exist and when. A position never moves: the read model adds
an event's entries all at once and in the log's order, so later events only add positions after the last one.

A page is read in time order (oldest or newest first), and that order among the entries a reader sees is the
order of (``occurred_at``, position). A page ends after ``limit`` entries, or earlier once the bodies it holds
reach ``BODY_BUDGET`` characters (it always holds one entry), and names where it ended: the next page is the
entries past that (time, position), which no event added in between, merged posts included, can shift.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from hostdesk_query.domain.cursor import TimelineCursor
from hostdesk_query.domain.model import TicketView, TimelineEntry

DEFAULT_LIMIT = 100  # every timeline the product's own tools and tests read whole fits in one default page
MAX_LIMIT = 200
# A reply holds up to 65,536 characters: 200 of them would be 13 MB and more. The budget keeps a page near 1 MB.
BODY_BUDGET = 1_000_000


Positioned = tuple[int, TimelineEntry]  # an entry and its position


@dataclass(frozen=True, slots=True)
class TimelineWindow:
    """Which page of a timeline is asked for: at most ``limit`` entries past ``after`` in the reading order."""

    limit: int = DEFAULT_LIMIT
    after: TimelineCursor | None = None


FIRST_PAGE = TimelineWindow()  # of the default size


def numbered(entries: Iterable[TimelineEntry]) -> list[Positioned]:
    """``entries`` (those a reader may see) with their positions, in the order the log made them."""
    in_log_order = sorted(entries, key=lambda entry: (entry.version, entry.part))
    return list(enumerate(in_log_order, start=1))


def _reading_key(pair: Positioned) -> tuple[datetime, int]:
    position, entry = pair
    return (entry.occurred_at, position)


def page_of(
    positioned: Iterable[Positioned], window: TimelineWindow, *, newest_first: bool
) -> tuple[tuple[Positioned, ...], bool]:
    """The entries of ``window`` in time order (``newest_first`` or oldest first), and whether more follow: the
    rule the database's query keeps too."""
    ordered = sorted(positioned, key=_reading_key, reverse=newest_first)
    if window.after is not None:
        cursor = (window.after.occurred_at, window.after.position)
        if newest_first:
            ordered = [pair for pair in ordered if _reading_key(pair) < cursor]
        else:
            ordered = [pair for pair in ordered if _reading_key(pair) > cursor]
    return tuple(ordered[: window.limit]), len(ordered) > window.limit


def within_budget(view: TicketView, budget: int = BODY_BUDGET) -> TicketView:
    """``view`` cut after the entry whose body reaches ``budget`` characters in all, if one does."""
    held = 0
    for count, entry in enumerate(view.timeline, start=1):
        held += len(entry.body or "")
        if held >= budget and count < len(view.timeline):
            return replace(view, timeline=view.timeline[:count], positions=view.positions[:count], more=True)
    return view


def next_cursor(view: TicketView) -> TimelineCursor | None:
    """Where the page after ``view``'s begins; None when ``view`` holds the timeline's last page."""
    if not view.more or not view.timeline:
        return None
    return TimelineCursor(occurred_at=view.timeline[-1].occurred_at, position=view.positions[-1])
