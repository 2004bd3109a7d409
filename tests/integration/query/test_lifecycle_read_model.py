"""A ticket through every kind of event on PostgreSQL, in a fresh schema and in one an earlier version made."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest
from hostdesk_contracts.access import Reach, reach_of
from hostdesk_contracts.base import Role
from hostdesk_contracts.events import AnyEvent
from hostdesk_devtools.stories import TicketStory, account, every_kind_of_event
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.adapters.rows import ENTRY_FIELDS, TICKET_FIELDS
from hostdesk_query.adapters.schema import ensure_schema
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.model import TicketRecord, TicketView, TimelineEntry
from hostdesk_query.domain.projection import change_of, plan_batch
from hostdesk_query.domain.timeline import in_time_order
from hostdesk_query.domain.visibility import shows, side_on

from tests.support import tallies
from tests.unit.query.files import attached, attachment_of

# The tables as the first version of the read model made them (its adapters/schema.py, word for word).
FIRST_VERSION_DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};

CREATE TABLE IF NOT EXISTS {schema}.tickets (
    ticket_id       uuid PRIMARY KEY,
    tenant          text NOT NULL,
    number          bigint NOT NULL,
    subject         text NOT NULL,
    requester_id    text NOT NULL,
    requester_name  text,
    requester_email text,
    requester_role  text NOT NULL,
    status          text NOT NULL,
    priority        text NOT NULL,
    department      text,
    channel         text NOT NULL,
    cc              text[] NOT NULL DEFAULT '{{}}',
    related_service text,
    created_at      timestamptz NOT NULL,
    last_post_at    timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    version         integer NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_by_tenant
    ON {schema}.tickets (tenant, updated_at DESC, ticket_id DESC);
CREATE INDEX IF NOT EXISTS tickets_by_requester
    ON {schema}.tickets (tenant, requester_id, updated_at DESC, ticket_id DESC);
CREATE INDEX IF NOT EXISTS tickets_by_status
    ON {schema}.tickets (tenant, status, updated_at DESC, ticket_id DESC);

CREATE TABLE IF NOT EXISTS {schema}.timeline (
    ticket_id   uuid NOT NULL,
    version     integer NOT NULL,
    kind        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor_id    text NOT NULL,
    actor_name  text,
    actor_role  text NOT NULL,
    side        text NOT NULL,
    body        text,
    visibility  text,
    post_id     text,
    from_status text,
    to_status   text,
    reason      text,
    PRIMARY KEY (ticket_id, version)
);

CREATE TABLE IF NOT EXISTS {schema}.dead_letters (
    id          bigserial PRIMARY KEY,
    subject     text NOT NULL,
    data        bytea NOT NULL,
    headers     jsonb NOT NULL DEFAULT '{{}}',
    error       text NOT NULL,
    stream_seq  bigint,
    deliveries  integer NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
"""
FIRST_VERSION_TICKET_COLUMNS = 18  # the first columns of today's rows are the first version's
FIRST_VERSION_ENTRY_COLUMNS = 14


def projected(events: Sequence[AnyEvent]) -> tuple[dict[uuid.UUID, TicketRecord], list[TimelineEntry]]:
    """What the domain makes of ``events``: the read model must give back exactly this."""
    plan = plan_batch({}, [change_of(event) for event in events])
    return {ticket.ticket_id: ticket for ticket in plan.created}, list(plan.entries)


def expected_view(
    reach: Reach, ticket: TicketRecord, entries: Sequence[TimelineEntry], *, newest_first: bool
) -> TicketView:
    side = side_on(reach, ticket)
    assert side is not None
    own = [entry for entry in entries if entry.ticket_id == ticket.ticket_id and shows(side, entry)]
    return TicketView(ticket=ticket, timeline=tuple(in_time_order(own, newest_first=newest_first)))


@pytest.fixture
async def first_version_pool(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    """A pool on a schema of its own, made by the first version's DDL."""
    schema = f"query_v1_{uuid.uuid4().hex[:10]}"
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4, server_settings={"search_path": schema})
    assert pool is not None
    await pool.execute(FIRST_VERSION_DDL.format(schema=f'"{schema}"'))
    yield pool, schema
    await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await pool.close()


async def test_a_ticket_through_every_kind_of_event_reads_back_as_projected(
    read_model: PostgresReadModel, tenant: str
) -> None:
    lifecycle = every_kind_of_event(tenant)
    tickets, entries = projected(lifecycle.events)
    half = len(lifecycle.events) // 2

    outcomes = [await read_model.apply([change_of(event)]) for event in lifecycle.events[:half]]
    outcomes.append(await read_model.apply([change_of(event) for event in lifecycle.events[half:]]))

    assert {outcome for batch in outcomes for outcome in batch} == {Decision.APPLY}
    for caller in (lifecycle.requester, lifecycle.agent):
        for story in (lifecycle.target, lifecycle.source):
            for newest_first in (False, True):
                view = await read_model.ticket_view(reach_of(caller), story.ticket_id, newest_first=newest_first)
                assert view == expected_view(
                    reach_of(caller), tickets[story.ticket_id], entries, newest_first=newest_first
                ), (caller.role, story is lifecycle.target, newest_first)


async def test_a_merge_of_posts_delivered_again_adds_each_post_once(
    read_model: PostgresReadModel, query_pool: asyncpg.Pool, tenant: str
) -> None:
    lifecycle = every_kind_of_event(tenant)
    await read_model.apply([change_of(event) for event in lifecycle.events])

    again = await read_model.apply([change_of(event) for event in lifecycle.events])

    assert set(again) == {Decision.DUPLICATE}
    merged = await query_pool.fetchval(
        "SELECT count(*) FROM timeline WHERE ticket_id = $1 AND kind = 'merged_post'", lifecycle.target.ticket_id
    )
    assert merged == len(lifecycle.source.posts)


async def test_a_read_model_of_the_first_version_is_upgraded_in_place_and_keeps_projecting(
    first_version_pool: tuple[asyncpg.Pool, str], tenant: str
) -> None:
    pool, schema = first_version_pool
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    old = TicketStory(customer)
    old_events: list[AnyEvent] = [old.opened(), old.reply(agent, "Fixed."), old.close(agent, "Fixed.")]
    old_tickets, old_entries = projected(old_events)
    await _store_as_the_first_version(pool, old_tickets[old.ticket_id], old_entries)

    await asyncio.gather(*(ensure_schema(pool, schema) for _ in range(3)))
    kept, recounted = await tallies(pool, schema)
    assert kept == recounted != []  # the tallies made by the upgrade count the tickets already there

    read_model = PostgresReadModel(pool, notify_channel="unheard")
    before = await read_model.ticket_view(reach_of(agent), old.ticket_id, newest_first=False)
    assert before == expected_view(reach_of(agent), old_tickets[old.ticket_id], old_entries, newest_first=False)
    assert before is not None
    assert before.ticket.archived  # closed before the archive flag existed: in the archive all the same

    later: list[AnyEvent] = [old.reopen(customer), old.reply(customer, "Down again.")]
    lifecycle = every_kind_of_event(tenant)
    outcomes = await read_model.apply([change_of(event) for event in (*later, *lifecycle.events)])

    assert set(outcomes) == {Decision.APPLY}
    tickets, entries = projected([*old_events, *later, *lifecycle.events])
    for story in (old, lifecycle.target, lifecycle.source):
        view = await read_model.ticket_view(reach_of(agent), story.ticket_id, newest_first=False)
        assert view == expected_view(reach_of(agent), tickets[story.ticket_id], entries, newest_first=False)
    assert await _timeline_key(pool, schema) == ["ticket_id", "version", "part"]
    kept, recounted = await tallies(pool, schema)
    assert kept == recounted


async def test_upgrading_an_upgraded_schema_changes_nothing(
    first_version_pool: tuple[asyncpg.Pool, str], tenant: str
) -> None:
    pool, schema = first_version_pool
    await ensure_schema(pool, schema)
    lifecycle = every_kind_of_event(tenant)
    await PostgresReadModel(pool, notify_channel="unheard").apply([change_of(e) for e in lifecycle.events])
    columns_before, rows_before = await _columns(pool, schema), await _rows(pool)

    await ensure_schema(pool, schema)

    assert await _columns(pool, schema) == columns_before
    assert await _rows(pool) == rows_before


async def _store_as_the_first_version(
    pool: asyncpg.Pool, ticket: TicketRecord, entries: Sequence[TimelineEntry]
) -> None:
    """The rows the first version wrote for ``ticket``: today's rows cut to the first version's columns."""
    ticket_row = ticket[:FIRST_VERSION_TICKET_COLUMNS]
    await pool.execute(f"INSERT INTO tickets VALUES ({_placeholders(len(ticket_row))})", *ticket_row)
    for entry in entries:
        entry_row = entry[:FIRST_VERSION_ENTRY_COLUMNS]
        await pool.execute(f"INSERT INTO timeline VALUES ({_placeholders(len(entry_row))})", *entry_row)


def _placeholders(count: int) -> str:
    return ", ".join(f"${i}" for i in range(1, count + 1))


async def _timeline_key(pool: asyncpg.Pool, schema: str) -> list[str]:
    columns: list[str] = await pool.fetchval(
        "SELECT array_agg(a.attname::text ORDER BY k.position) FROM pg_constraint c"
        " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, position)"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
        " WHERE c.conrelid = $1::regclass AND c.contype = 'p'",
        f'"{schema}".timeline',
    )
    return columns


async def _columns(pool: asyncpg.Pool, schema: str) -> list[tuple[str, str, str]]:
    rows = await pool.fetch(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1"
        " ORDER BY table_name, ordinal_position",
        schema,
    )
    return [(row["table_name"], row["column_name"], row["data_type"]) for row in rows]


async def _rows(pool: asyncpg.Pool) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    tickets = await pool.fetch("SELECT * FROM tickets ORDER BY ticket_id")
    timeline = await pool.fetch("SELECT * FROM timeline ORDER BY ticket_id, version, part")
    return tickets, timeline


async def test_a_read_model_made_before_attachments_gains_their_column_in_place_and_keeps_files(
    first_version_pool: tuple[asyncpg.Pool, str], tenant: str
) -> None:
    pool, schema = first_version_pool
    await ensure_schema(pool, schema)
    await pool.execute("ALTER TABLE timeline DROP COLUMN attachments")  # the tables as the release before files
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story = TicketStory(customer)
    tickets, entries = projected([story.opened()])
    before_files = ENTRY_FIELDS[: ENTRY_FIELDS.index("attachments")]
    await pool.execute(
        f"INSERT INTO tickets ({', '.join(TICKET_FIELDS)}) VALUES ({_placeholders(len(TICKET_FIELDS))})",
        *tickets[story.ticket_id],
    )
    await pool.execute(
        f"INSERT INTO timeline ({', '.join(before_files)}) VALUES ({_placeholders(len(before_files))})",
        *entries[0][: len(before_files)],
    )

    await asyncio.gather(*(ensure_schema(pool, schema) for _ in range(2)))

    read_model = PostgresReadModel(pool, notify_channel="unheard")
    log = attachment_of(b"php-fpm log", name="php-fpm.log", media_type="text/plain")
    assert await read_model.apply([change_of(attached(story.reply(agent), log))]) == [Decision.APPLY]
    view = await read_model.ticket_view(reach_of(customer), story.ticket_id, newest_first=False)
    assert view is not None
    assert [entry.attachments for entry in view.timeline] == [(), (log,)]
    assert ("timeline", "attachments", "jsonb") in await _columns(pool, schema)
