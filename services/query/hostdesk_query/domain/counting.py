"""How many tickets a list holds: in all, per status and per department, for the list's own filter.

A count is exact, or a lower bound (``exact`` false: at least ``count``). The read model keeps running tallies of
the tickets each organisation handles by status, department, priority, archive and whether someone is assigned,
so a filter on those alone is counted exactly at any size (``tallied``). Any other filter is counted over at most
``COUNT_CAP`` tickets: up to there exactly, beyond it as "at least": never a count over millions of rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from hostdesk_contracts.base import Status

from hostdesk_query.domain.listing import EVER, TicketFilter

COUNT_CAP = 1_000

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Tally:
    count: int
    exact: bool = True  # False: at least ``count``

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.exact and other.exact)

    def __sub__(self, other: Tally) -> Tally:
        return Tally(max(0, self.count - other.count), self.exact and other.exact)


NONE = Tally(0)


@dataclass(frozen=True, slots=True)
class TicketCounts:
    """The tickets counted, per status and per department (None: in no department); a status or department with
    no ticket is left out."""

    statuses: Mapping[Status, Tally] = field(default_factory=dict)
    departments: Mapping[str | None, Tally] = field(default_factory=dict)
    total: Tally = NONE

    def __add__(self, other: TicketCounts) -> TicketCounts:
        return TicketCounts(
            statuses=_merged(self.statuses, other.statuses, Tally.__add__),
            departments=_merged(self.departments, other.departments, Tally.__add__),
            total=self.total + other.total,
        )

    def __sub__(self, other: TicketCounts) -> TicketCounts:
        return TicketCounts(
            statuses=_merged(self.statuses, other.statuses, Tally.__sub__),
            departments=_merged(self.departments, other.departments, Tally.__sub__),
            total=self.total - other.total,
        )


def _merged(
    left: Mapping[K, Tally], right: Mapping[K, Tally], combine: Callable[[Tally, Tally], Tally]
) -> dict[K, Tally]:
    merged = {key: combine(left.get(key, NONE), right.get(key, NONE)) for key in {*left, *right}}
    return {key: tally for key, tally in merged.items() if tally.count or not tally.exact}


def counted(tickets: Iterable[tuple[Status, str | None, int]], *, exact: bool = True) -> TicketCounts:
    """The counts of tickets given as (status, department, how many); with ``exact`` false, each count is a
    lower bound (the tickets are the first of more)."""
    statuses: Counter[Status] = Counter()
    departments: Counter[str | None] = Counter()
    for status, department, n in tickets:
        statuses[status] += n
        departments[department] += n
    return TicketCounts(
        statuses={status: Tally(n, exact) for status, n in statuses.items() if n},
        departments={department: Tally(n, exact) for department, n in departments.items() if n},
        total=Tally(statuses.total(), exact),
    )


def tallied(ticket_filter: TicketFilter) -> bool:
    """Whether the running tallies answer ``ticket_filter``: it narrows on status, priority, archive, department
    and whether someone is assigned, and nothing else."""
    f = ticket_filter
    return (
        (f.assignee is None or f.assignee.anyone or f.assignee.account_id is None)
        and f.requesters is None
        and not f.categories
        and not f.tags
        and not f.channels
        and f.created == EVER
        and f.updated == EVER
    )
