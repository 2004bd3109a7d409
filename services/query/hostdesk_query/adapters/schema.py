"""The read model's tables, created at start-up by idempotent DDL, and the upgrade of tables an earlier version
made. Replicas may start together: everything runs in one transaction under a transaction-level advisory lock,
so one replica upgrades and the others then find nothing left to do."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

from hostdesk_query.adapters.catching_up import IN_CATCH_UP
from hostdesk_query.adapters.words_schema import keep_words
from hostdesk_query.domain.listing import PRIORITY_ORDER

if TYPE_CHECKING:
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record] | asyncpg.Connection[asyncpg.Record]

# Columns added to the tables of the first version, each with its definition; a fresh schema has them too.
_TICKET_COLUMNS_ADDED = {
    "category": "text",
    "tags": "text[] NOT NULL DEFAULT '{}'",
    "assignee_id": "text",
    "assignee_name": "text",
    "archived": "boolean NOT NULL DEFAULT false",
    "rating": "text",
    "rating_comment": "text",
    "status_label": "text",
    "merged_into_ticket_id": "uuid",
    "merged_into_number": "bigint",
    "handling_organisation_id": "text",  # NULL: opened before the directory, handled by the tenant's provider
    "language": "text NOT NULL DEFAULT 'en'",  # ``domain.language``: tickets from before it are searched as English
    # A priority's place in the priority order (``domain.listing.PRIORITY_ORDER``), for its keyset and index.
    "priority_order": "smallint GENERATED ALWAYS AS ("
    + "CASE priority "
    + " ".join(f"WHEN '{priority.value}' THEN {place}" for priority, place in PRIORITY_ORDER.items())
    + " END) STORED",
}
_ENTRY_COLUMNS_ADDED = {
    "part": "integer NOT NULL DEFAULT 0",  # one event may add several entries: a merge adds one per post
    "status_label": "text",
    "from_value": "text",
    "to_value": "text",
    "from_label": "text",
    "to_label": "text",
    "from_values": "text[]",
    "to_values": "text[]",
    "related_ticket_id": "uuid",
    "related_number": "bigint",
    "automatic": "boolean NOT NULL DEFAULT false",
    "attachments": "jsonb",  # a post's files (``adapters.rows``); NULL: none
}
_LETTER_COLUMNS_ADDED = {
    "replay_requested_at": "timestamptz",  # the command line asked for a replay (``service_layer.replay``)
    "replays": "integer NOT NULL DEFAULT 0",  # replays tried in vain
}
# What a column added to existing rows must hold to tell their truth: a closed ticket was put in the archive.
_BACKFILLS = {("tickets", "archived"): "UPDATE {table} SET archived = true WHERE status = 'closed'"}
_ENTRY_KEY = ("ticket_id", "version", "part")


def _added(columns: dict[str, str]) -> str:
    return "".join(f",\n    {name} {definition}" for name, definition in columns.items())


_DDL = """
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
    version         integer NOT NULL{ticket_columns_added}
);
CREATE INDEX IF NOT EXISTS tickets_by_tenant
    ON {schema}.tickets (tenant, updated_at DESC, ticket_id DESC);
CREATE INDEX IF NOT EXISTS tickets_by_requester
    ON {schema}.tickets (tenant, requester_id, updated_at DESC, ticket_id DESC);

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
    reason      text{entry_columns_added},
    PRIMARY KEY ({entry_key})
);

CREATE TABLE IF NOT EXISTS {schema}.dead_letters (
    id          bigserial PRIMARY KEY,
    subject     text NOT NULL,
    data        bytea NOT NULL,
    headers     jsonb NOT NULL DEFAULT '{{}}',
    error       text NOT NULL,
    stream_seq  bigint,
    deliveries  integer NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(){letter_columns_added}
);
"""
# Made after the upgrade: they index columns an earlier version's tables lack.
# The list of a handling organisation asks for the organisation a ticket is addressed to, a NULL one being the
# tenant's provider (``adapters.postgres``): the index holds that expression, as the list's query writes it.
_INDEXES = """
CREATE INDEX IF NOT EXISTS tickets_by_assignee
    ON {schema}.tickets (tenant, assignee_id, updated_at DESC, ticket_id DESC);
CREATE INDEX IF NOT EXISTS tickets_by_handler
    ON {schema}.tickets (tenant, COALESCE(handling_organisation_id, tenant), updated_at DESC, ticket_id DESC);
CREATE INDEX IF NOT EXISTS tickets_by_handler_created
    ON {schema}.tickets (tenant, COALESCE(handling_organisation_id, tenant), created_at DESC, ticket_id DESC);
CREATE INDEX IF NOT EXISTS tickets_by_handler_priority
    ON {schema}.tickets (tenant, COALESCE(handling_organisation_id, tenant), priority_order, created_at, ticket_id);
-- A staff list of one status (the tickets awaiting us), in the default order and by priority: read off the index
-- however few of the organisation's tickets hold that status. The tenant-wide one before it served no caller.
DROP INDEX IF EXISTS {schema}.tickets_by_status;
CREATE INDEX IF NOT EXISTS tickets_by_handler_status
    ON {schema}.tickets (tenant, COALESCE(handling_organisation_id, tenant), status, updated_at DESC, ticket_id DESC);
CREATE INDEX IF NOT EXISTS tickets_by_handler_status_priority
    ON {schema}.tickets (tenant, COALESCE(handling_organisation_id, tenant), status, priority_order, created_at,
        ticket_id);
-- The staff home's newest unassigned tickets: few of the million, each list's page read straight off it.
CREATE INDEX IF NOT EXISTS tickets_unassigned
    ON {schema}.tickets (tenant, COALESCE(handling_organisation_id, tenant), created_at DESC, ticket_id DESC)
    WHERE assignee_id IS NULL AND NOT archived;
CREATE INDEX IF NOT EXISTS tickets_by_tag ON {schema}.tickets USING gin (tags);
CREATE INDEX IF NOT EXISTS dead_letters_to_replay ON {schema}.dead_letters (id) WHERE replay_requested_at IS NOT NULL;
-- Quick search: a ticket by its number, the tickets of an address (requester or CC).
CREATE INDEX IF NOT EXISTS tickets_by_number ON {schema}.tickets (tenant, number);
CREATE INDEX IF NOT EXISTS tickets_by_requester_email ON {schema}.tickets (tenant, lower(requester_email));
CREATE OR REPLACE FUNCTION {schema}.folded_addresses(text[]) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $folded$ SELECT coalesce(array_agg(lower(address)), '{{}}') FROM unnest($1) AS address $folded$;
CREATE INDEX IF NOT EXISTS tickets_by_folded_cc ON {schema}.tickets USING gin ({schema}.folded_addresses(cc));
-- The staff home's highest priority tickets assigned to me.
CREATE INDEX IF NOT EXISTS tickets_assigned_by_priority
    ON {schema}.tickets (tenant, assignee_id, priority_order, created_at, ticket_id) WHERE NOT archived;
"""
# The running tallies of the tickets each organisation handles (``domain.counting``), kept by triggers on
# ``tickets`` in the transaction of every write, whichever path writes (the live batch's INSERT and UPDATE, the
# catch-up's COPY and UPDATE ... FROM): one statement's rows are summed into one upsert per key, in the key's
# order, so that two writers take the rows' locks in the same order. A department of '' is none.
_TALLY_KEY = "tenant, handler, department, status, priority, archived, assigned"
_TALLY_OF_ROW = (
    "tenant, COALESCE(handling_organisation_id, tenant), COALESCE(department, ''), status, priority, archived,"
    " assignee_id IS NOT NULL"
)
_TALLIES = """
CREATE TABLE IF NOT EXISTS {schema}.ticket_counts (
    tenant     text NOT NULL,
    handler    text NOT NULL,
    department text NOT NULL,
    status     text NOT NULL,
    priority   text NOT NULL,
    archived   boolean NOT NULL,
    assigned   boolean NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY ({key})
);
-- A few hundred rows updated by every batch: room on each page for the new version of a row (a HOT update, no
-- index entry), and vacuumed after every thousand dead versions rather than a fraction of a tiny table.
ALTER TABLE {schema}.ticket_counts SET (
    fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_cost_delay = 0
);
CREATE OR REPLACE FUNCTION {schema}.tally_tickets() RETURNS trigger LANGUAGE plpgsql AS $tally$
BEGIN
    IF {catching_up} THEN
        RETURN NULL;  -- counted all at once at its end (``adapters.catching_up``)
    ELSIF TG_OP = 'INSERT' THEN
        {upsert_added}
    ELSIF TG_OP = 'UPDATE' THEN
        {upsert_moved}
    ELSE
        {upsert_removed}
    END IF;
    RETURN NULL;
END
$tally$;
"""
_UPSERT_TALLIES = """INSERT INTO {schema}.ticket_counts AS c ({key}, n)
        SELECT {key}, sum(d) FROM ({deltas}) AS delta ({key}, d)
        GROUP BY {key} HAVING sum(d) <> 0 ORDER BY {key}
        ON CONFLICT ({key}) DO UPDATE SET n = c.n + EXCLUDED.n;"""
_ADDED = "SELECT {row}, 1 FROM added"
_REMOVED = "SELECT {row}, -1 FROM removed"
# Each trigger names the transition tables its statement has; the function reads only those (``TG_OP``).
_TALLY_TRIGGERS = {
    "tickets_tallied_on_insert": "AFTER INSERT ON {schema}.tickets REFERENCING NEW TABLE AS added",
    "tickets_tallied_on_update": (
        "AFTER UPDATE ON {schema}.tickets REFERENCING OLD TABLE AS removed NEW TABLE AS added"
    ),
    "tickets_tallied_on_delete": "AFTER DELETE ON {schema}.tickets REFERENCING OLD TABLE AS removed",
}
_COLUMNS = "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2"
_PRIMARY_KEY = """
SELECT c.conname, array_agg(a.attname::text ORDER BY k.position) AS columns
FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, position)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE c.conrelid = $1::regclass AND c.contype = 'p'
GROUP BY c.conname
"""
# An upgrade rebuilds the timeline's key over every row: far longer than a statement of the running service.
_UPGRADE_TIMEOUT_SECONDS = 3_600.0


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def ensure_schema(pool: asyncpg.Pool, schema: str) -> None:
    name = quoted(schema)
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            f"hostdesk-query-ddl:{schema}",
            timeout=_UPGRADE_TIMEOUT_SECONDS,
        )
        await connection.execute(
            _DDL.format(
                schema=name,
                ticket_columns_added=_added(_TICKET_COLUMNS_ADDED),
                entry_columns_added=_added(_ENTRY_COLUMNS_ADDED),
                letter_columns_added=_added(_LETTER_COLUMNS_ADDED),
                entry_key=", ".join(_ENTRY_KEY),
            )
        )
        await _add_columns(connection, schema, "tickets", _TICKET_COLUMNS_ADDED)
        await _add_columns(connection, schema, "timeline", _ENTRY_COLUMNS_ADDED)
        await _add_columns(connection, schema, "dead_letters", _LETTER_COLUMNS_ADDED)
        await _rekey_timeline(connection, schema)
        await connection.execute(_INDEXES.format(schema=name), timeout=_UPGRADE_TIMEOUT_SECONDS)
        await _keep_tallies(connection, name)
        await keep_words(connection, name, schema)


async def _keep_tallies(connection: Connection, schema: str) -> None:
    """The tallies' table, function and triggers; a table made now is filled from the tickets already there."""
    fresh = await connection.fetchval("SELECT to_regclass($1) IS NULL", f"{schema}.ticket_counts")
    upsert = {
        f"upsert_{name}": _UPSERT_TALLIES.format(schema=schema, key=_TALLY_KEY, deltas=deltas.format(row=_TALLY_OF_ROW))
        for name, deltas in (("added", _ADDED), ("moved", f"{_ADDED} UNION ALL {_REMOVED}"), ("removed", _REMOVED))
    }
    await connection.execute(_TALLIES.format(schema=schema, key=_TALLY_KEY, catching_up=IN_CATCH_UP, **upsert))
    for name, event in _TALLY_TRIGGERS.items():
        await connection.execute(f"DROP TRIGGER IF EXISTS {name} ON {schema}.tickets")
        await connection.execute(
            f"CREATE TRIGGER {name} {event.format(schema=schema)}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {schema}.tally_tickets()"
        )
    if fresh:
        await refill_tallies(connection, schema)


async def refill_tallies(connection: Connection, schema: str) -> None:
    """Count every ticket anew (``schema`` quoted), in the caller's transaction."""
    await connection.execute(f"TRUNCATE {schema}.ticket_counts")
    await connection.execute(
        f"INSERT INTO {schema}.ticket_counts ({_TALLY_KEY}, n)"
        f" SELECT {_TALLY_OF_ROW}, count(*) FROM {schema}.tickets GROUP BY 1, 2, 3, 4, 5, 6, 7",
        timeout=_UPGRADE_TIMEOUT_SECONDS,
    )


async def _add_columns(connection: Connection, schema: str, table: str, columns: dict[str, str]) -> None:
    present = {row["column_name"] for row in await connection.fetch(_COLUMNS, schema, table)}
    qualified = f"{quoted(schema)}.{quoted(table)}"
    for name, definition in columns.items():
        if name in present:
            continue
        await connection.execute(
            f"ALTER TABLE {qualified} ADD COLUMN IF NOT EXISTS {name} {definition}", timeout=_UPGRADE_TIMEOUT_SECONDS
        )
        backfill = _BACKFILLS.get((table, name))
        if backfill is not None:
            await connection.execute(backfill.format(table=qualified), timeout=_UPGRADE_TIMEOUT_SECONDS)


async def _rekey_timeline(connection: Connection, schema: str) -> None:
    """The first version keyed the timeline by (ticket_id, version), one entry per event."""
    qualified = f"{quoted(schema)}.timeline"
    key = await connection.fetchrow(_PRIMARY_KEY, qualified)
    if key is not None and tuple(key["columns"]) == _ENTRY_KEY:
        return
    if key is not None:
        await connection.execute(f"ALTER TABLE {qualified} DROP CONSTRAINT {quoted(key['conname'])}")
    await connection.execute(
        f"ALTER TABLE {qualified} ADD CONSTRAINT timeline_pkey PRIMARY KEY ({', '.join(_ENTRY_KEY)})",
        timeout=_UPGRADE_TIMEOUT_SECONDS,
    )
