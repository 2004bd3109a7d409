"""What a list of tickets may be narrowed to, and the orders it may be read in.

Every order is a keyset: a page ends at its last ticket's sort key (``sort_key``), and the next page starts after
it, so that a ticket written between two pages is neither skipped nor shown twice unless its own key moved. Each
order ends with the ticket id, so that no two tickets share a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from hostdesk_contracts.base import Channel, Priority, Status

from hostdesk_query.domain.model import TicketRecord


class ListOrder(StrEnum):
    UPDATED = "updated"  # the most recently updated first
    PRIORITY = "priority"  # the most urgent first, then the oldest first (the longest waiting)
    CREATED = "created"  # the newest first


# A priority's place in the priority order: urgent first. The read model's ``priority_order`` column holds it.
PRIORITY_ORDER: dict[Priority, int] = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


@dataclass(frozen=True, slots=True)
class Ordering:
    """How an order sorts: on these columns, each descending or all ascending."""

    columns: tuple[str, ...]
    descending: bool


ORDERINGS: dict[ListOrder, Ordering] = {
    ListOrder.UPDATED: Ordering(("updated_at", "ticket_id"), descending=True),
    ListOrder.PRIORITY: Ordering(("priority_order", "created_at", "ticket_id"), descending=False),
    ListOrder.CREATED: Ordering(("created_at", "ticket_id"), descending=True),
}

SortKey = tuple[datetime | UUID | int, ...]


def sort_key(order: ListOrder, ticket: TicketRecord) -> SortKey:
    """The values of ``ORDERINGS[order].columns`` for ``ticket``."""
    if order is ListOrder.UPDATED:
        return (ticket.updated_at, ticket.ticket_id)
    if order is ListOrder.PRIORITY:
        return (PRIORITY_ORDER[ticket.priority], ticket.created_at, ticket.ticket_id)
    return (ticket.created_at, ticket.ticket_id)


def comes_after(order: ListOrder, ticket: TicketRecord, key: SortKey) -> bool:
    """Whether ``ticket`` comes after the ticket of sort key ``key`` in ``order``."""
    own = sort_key(order, ticket)
    return own < key if ORDERINGS[order].descending else own > key


@dataclass(frozen=True, slots=True)
class AssignedTo:
    """Tickets assigned to ``account_id``; with None, those nobody is assigned to, or with ``anyone``, those
    someone is assigned to."""

    account_id: str | None
    anyone: bool = False

    def holds(self, assignee_id: str | None) -> bool:
        if self.anyone:
            return assignee_id is not None
        return assignee_id == self.account_id


ASSIGNED_TO_SOMEONE = AssignedTo(None, anyone=True)


@dataclass(frozen=True, slots=True)
class Period:
    """From ``since`` (included) to ``until`` (excluded); either end open when None."""

    since: datetime | None = None
    until: datetime | None = None

    def holds(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)


EVER = Period()


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """Each condition left empty keeps every ticket; the conditions given must all hold. Within one condition,
    any of its values does, but tags: a ticket must carry every tag asked for. ``requesters`` holds the
    accounts whose tickets are kept: one requester, or an organisation and its subaccounts."""

    statuses: frozenset[Status] = frozenset()
    priorities: frozenset[Priority] = frozenset()
    archived: bool | None = None
    assignee: AssignedTo | None = None
    departments: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    requesters: frozenset[str] | None = None  # None: anyone's; empty: nobody's
    tags: frozenset[str] = frozenset()
    channels: frozenset[Channel] = frozenset()
    created: Period = EVER
    updated: Period = EVER

    @property
    def handled_only(self) -> bool:
        """Whether the list keeps only the tickets the caller handles: a filter on the handling side's own fields
        (assignee, tags) would tell a requester what it may not see."""
        return self.assignee is not None or bool(self.tags)


def matches(ticket_filter: TicketFilter, ticket: TicketRecord) -> bool:
    f = ticket_filter
    return (
        (not f.statuses or ticket.status in f.statuses)
        and (not f.priorities or ticket.priority in f.priorities)
        and (f.archived is None or ticket.archived is f.archived)
        and (f.assignee is None or f.assignee.holds(ticket.assignee_id))
        and (not f.departments or ticket.department in f.departments)
        and (not f.categories or ticket.category in f.categories)
        and (f.requesters is None or ticket.requester_id in f.requesters)
        and f.tags.issubset(ticket.tags)
        and (not f.channels or ticket.channel in f.channels)
        and f.created.holds(ticket.created_at)
        and f.updated.holds(ticket.updated_at)
    )
