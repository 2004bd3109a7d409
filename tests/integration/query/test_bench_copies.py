"""The read-side bench's copies of a generated read model (``hostdesk_devtools.bench.copies``): each copy a
ticket of its own, its timeline and words with it, the tallies still true."""

from __future__ import annotations

import asyncpg
from hostdesk_contracts.access import reach_of
from hostdesk_contracts.base import Role
from hostdesk_devtools.bench.copies import copy_read_model
from hostdesk_devtools.stories import account
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.domain.listing import TicketFilter
from hostdesk_query.domain.search import search_of

from tests.integration.query.conftest import SCHEMA, degraded_raid
from tests.support import tallies


async def test_copies_are_tickets_of_their_own_with_their_timeline_words_and_counts(
    read_model: PostgresReadModel, query_pool: asyncpg.Pool, database_url: str, tenant: str
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    await degraded_raid(read_model, customer, agent)
    before = await query_pool.fetchval("SELECT count(*) FROM tickets")
    entries = await query_pool.fetchval("SELECT count(*) FROM timeline")

    after = await copy_read_model(database_url, SCHEMA, copies=3)

    assert after == before * 3
    assert await query_pool.fetchval("SELECT count(*) FROM ticket_words") == after  # no copy of a copy
    assert await query_pool.fetchval("SELECT count(*) FROM timeline") == entries * 3
    mine = await query_pool.fetch(
        "SELECT ticket_id, number, updated_at FROM tickets WHERE requester_id = $1 ORDER BY number", customer.account_id
    )
    assert len({row["ticket_id"] for row in mine}) == 3
    assert len({row["number"] for row in mine}) == 3
    timelines = await query_pool.fetch(
        "SELECT ticket_id, count(*) AS n FROM timeline WHERE ticket_id = ANY($1::uuid[]) GROUP BY ticket_id",
        [row["ticket_id"] for row in mine],
    )
    assert sorted(row["n"] for row in timelines) == [3, 3, 3]
    kept, recounted = await tallies(query_pool, SCHEMA)
    assert kept == recounted
    found = await read_model.search_tickets(reach_of(agent), search_of("rebuilding"), filters=TicketFilter(), limit=20)
    assert {hit.ticket.ticket_id for hit in found.hits} == {row["ticket_id"] for row in mine}
    public = await read_model.search_tickets(
        reach_of(customer), search_of("swapping"), filters=TicketFilter(), limit=20
    )
    assert public.hits == ()  # the internal note's words stayed internal in every copy
