"""The WHERE clauses of the reads of ``tickets``: the caller's reach (``hostdesk_contracts.access.Reach.side``)
and a list's filter (``domain.listing.matches``) in SQL, and a page of a list in its order."""

from __future__ import annotations

from hostdesk_contracts.access import Reach
from hostdesk_contracts.base import Side

from hostdesk_query.adapters.rows import TICKET_COLUMNS
from hostdesk_query.domain.cursor import PageCursor
from hostdesk_query.domain.listing import ORDERINGS, ListOrder, TicketFilter


class Where:
    """A WHERE clause and its numbered parameters, built one condition at a time. Clauses of one statement share
    ``args``, so that their placeholders run on from one to the next."""

    def __init__(self, args: list[object] | None = None) -> None:
        self.conditions: list[str] = []
        self.args: list[object] = [] if args is None else args

    def add(self, condition: str, *args: object) -> None:
        placeholders = [f"${len(self.args) + i + 1}" for i in range(len(args))]
        self.conditions.append(condition.format(*placeholders))
        self.args.extend(args)

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions)


# The organisation a ticket is addressed to, a ticket from before the directory being its tenant's provider's:
# written as ``tickets_by_handler`` indexes it (``adapters.schema``).
HANDLER = "COALESCE(handling_organisation_id, tenant)"


def sided(reach: Reach, args: list[object], *, handled_only: bool) -> list[tuple[Side, Where]]:
    """``Reach.side`` in SQL: one clause per index a read walks, each with the side its tickets are read from; the
    tickets the caller requested, and those addressed to the organisation it handles for but not requested by it
    (the requester's side comes first in the rule), so the clauses never share a ticket. With ``handled_only``,
    only the latter. No clause: the caller reaches nothing."""
    if reach.everything:
        every = Where(args)
        every.add("tenant = {}", reach.tenant)
        return [(Side.HANDLER, every)]
    clauses = []
    if not handled_only:
        clauses.append((Side.REQUESTER, requested_by(reach, Where(args))))
    if reach.handles is not None:
        handled = handled_by(reach, Where(args))
        handled.add("requester_id <> {}", reach.account_id)
        clauses.append((Side.HANDLER, handled))
    return clauses


def requested_by(reach: Reach, where: Where) -> Where:
    """The tickets the caller requested."""
    where.add("tenant = {}", reach.tenant)
    where.add("requester_id = {}", reach.account_id)
    return where


def handled_by(reach: Reach, where: Where) -> Where:
    """The tickets addressed to the organisation the caller handles for (``reach.handles``, not None), within
    its departments."""
    where.add("tenant = {}", reach.tenant)
    where.add(f"{HANDLER} = {{}}", reach.handles)
    if reach.departments is not None:  # a ticket in no department is seen by all the organisation's staff
        where.add("(department IS NULL OR department = ANY({}::text[]))", sorted(reach.departments))
    return where


def narrowed_as_tallied(where: Where, filters: TicketFilter) -> Where:
    """The conditions on status, priority, archive and department, columns of the same names in ``tickets`` and in
    the tallies of ``ticket_counts`` (whose department of '' is none: no department asked for is '')."""
    f = filters
    if f.statuses:
        where.add("status = ANY({}::text[])", sorted(status.value for status in f.statuses))
    if f.priorities:
        where.add("priority = ANY({}::text[])", sorted(priority.value for priority in f.priorities))
    if f.archived is not None:
        where.add("archived = {}", f.archived)
    if f.departments:
        where.add("department = ANY({}::text[])", sorted(f.departments))
    return where


def narrowed(where: Where, filters: TicketFilter) -> Where:
    """``domain.listing.matches`` in SQL."""
    f = filters
    narrowed_as_tallied(where, f)
    if f.assignee is not None:
        if f.assignee.anyone:
            where.add("assignee_id IS NOT NULL")
        elif f.assignee.account_id is None:
            where.add("assignee_id IS NULL")
        else:
            where.add("assignee_id = {}", f.assignee.account_id)
    if f.categories:
        where.add("category = ANY({}::text[])", sorted(f.categories))
    if f.requesters is not None:
        where.add("requester_id = ANY({}::text[])", sorted(f.requesters))
    if f.tags:
        where.add("tags @> {}::text[]", sorted(f.tags))
    if f.channels:
        where.add("channel = ANY({}::text[])", sorted(channel.value for channel in f.channels))
    for column, period in (("created_at", f.created), ("updated_at", f.updated)):
        if period.since is not None:
            where.add(f"{column} >= {{}}", period.since)
        if period.until is not None:
            where.add(f"{column} < {{}}", period.until)
    return where


def order_by(order: ListOrder) -> str:
    ordering = ORDERINGS[order]
    direction = " DESC" if ordering.descending else ""
    return ", ".join(f"{column}{direction}" for column in ordering.columns)


def past(where: Where, after: PageCursor) -> Where:
    """The keyset condition: the tickets after the cursor's in its order, as one row comparison (which the
    order's index answers as a range)."""
    ordering = ORDERINGS[after.order]
    placeholders = ", ".join("{}" for _ in after.key)
    where.add(f"({', '.join(ordering.columns)}) {'<' if ordering.descending else '>'} ({placeholders})", *after.key)
    return where


def list_query(
    reach: Reach, filters: TicketFilter, order: ListOrder, after: PageCursor | None, limit: int
) -> tuple[str, list[object]] | None:
    """A page of the list and its arguments, or None when the caller reaches nothing. Each clause is a page of
    its own, read in order from its index; the pages (which share no ticket) are cut to the page together: no sort
    of everything a caller reaches."""
    args: list[object] = []
    clauses = []
    for _, where in sided(reach, args, handled_only=filters.handled_only):
        narrowed(where, filters)
        clauses.append(where if after is None else past(where, after))
    if not clauses:
        return None
    args.append(limit)
    ordering = order_by(order)
    pages = [
        f"SELECT {TICKET_COLUMNS}, priority_order FROM tickets WHERE {where.sql} ORDER BY {ordering} LIMIT ${len(args)}"
        for where in clauses
    ]
    if len(pages) == 1:
        return pages[0], args
    union = " UNION ALL ".join(f"({page})" for page in pages)
    return f"SELECT * FROM ({union}) AS reached ORDER BY {ordering} LIMIT ${len(args)}", args
