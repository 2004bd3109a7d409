"""Counting a list in PostgreSQL (``domain.counting``).

The tickets an organisation handles are summed from the running tallies (``adapters.schema``) when the filter is
one they answer: a few hundred rows at most, whatever the number of tickets. Everything else (the tickets the
caller requested, any other filter) is counted over at most ``COUNT_CAP`` tickets read from the list's indexes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
from hostdesk_contracts.access import Reach
from hostdesk_contracts.base import Status

from hostdesk_query.adapters.ticket_sql import Where, handled_by, narrowed, narrowed_as_tallied, requested_by, sided
from hostdesk_query.domain.counting import COUNT_CAP, TicketCounts, counted, tallied
from hostdesk_query.domain.listing import TicketFilter

if TYPE_CHECKING:
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]


async def count_tickets(connection: Connection, reach: Reach, filters: TicketFilter) -> TicketCounts:
    if not tallied(filters) or (reach.handles is None and not reach.everything):
        clauses = [where for _, where in sided(reach, [], handled_only=filters.handled_only)]
        return await _sampled(connection, clauses, filters)
    counts = await _tallied(connection, reach, filters)
    if reach.everything:
        return counts
    # The tallies hold every ticket addressed to the caller's organisation, those it requested too: those are
    # its requester's, listed (unless ``handled_only``) with the others it requested.
    own = handled_by(reach, Where())
    own.add("requester_id = {}", reach.account_id)
    counts -= await _sampled(connection, [own], filters)
    if filters.handled_only:
        return counts
    return counts + await _sampled(connection, [requested_by(reach, Where())], filters)


async def _tallied(connection: Connection, reach: Reach, filters: TicketFilter) -> TicketCounts:
    where = Where()
    where.add("tenant = {}", reach.tenant)
    if not reach.everything:
        where.add("handler = {}", reach.handles)
        if reach.departments is not None:
            where.add("(department = '' OR department = ANY({}::text[]))", sorted(reach.departments))
    narrowed_as_tallied(where, filters)
    if filters.assignee is not None:  # none or anyone: ``domain.counting.tallied``
        where.add("assigned = {}", filters.assignee.anyone)
    rows = await connection.fetch(
        "SELECT status, NULLIF(department, '') AS department, sum(n)::bigint AS n FROM ticket_counts"
        f" WHERE {where.sql} GROUP BY 1, 2 HAVING sum(n) > 0",
        *where.args,
    )
    return counted((Status(row["status"]), row["department"], row["n"]) for row in rows)


async def _sampled(connection: Connection, clauses: list[Where], filters: TicketFilter) -> TicketCounts:
    """The tickets of each clause (disjoint clauses sharing their arguments), up to ``COUNT_CAP`` of each."""
    if not clauses:
        return TicketCounts()
    parts = [
        f"(SELECT {part} AS part, status, department FROM tickets WHERE {narrowed(where, filters).sql}"
        f" LIMIT {COUNT_CAP + 1})"
        for part, where in enumerate(clauses)
    ]
    rows = await connection.fetch(" UNION ALL ".join(parts), *clauses[0].args)
    counts = TicketCounts()
    for part in range(len(clauses)):
        found = [(Status(row["status"]), row["department"], 1) for row in rows if row["part"] == part]
        counts += counted(found[:COUNT_CAP], exact=len(found) <= COUNT_CAP)
    return counts
