"""``hostdesk dead-letters list`` against the tables query and notify make, read only."""

from __future__ import annotations

import json
import uuid

import asyncpg
from hostdesk_notify.adapters.schema import migrate
from hostdesk_query.adapters.schema import ensure_schema

from .conftest import Hostdesk


async def test_the_dead_letters_of_query_and_notify_are_listed_newest_first(
    hostdesk: Hostdesk, db_pool: asyncpg.Pool
) -> None:
    query_schema, notify_schema = f"query_{uuid.uuid4().hex[:8]}", f"notify_{uuid.uuid4().hex[:8]}"
    await ensure_schema(db_pool, query_schema)
    await migrate(db_pool, schema=notify_schema)
    ticket_id = str(uuid.uuid4())
    headers = json.dumps({"Event-Type": "ticket.reply_posted.v1", "Ticket-Id": ticket_id})
    await db_pool.execute(
        f"INSERT INTO {query_schema}.dead_letters (subject, data, headers, error, stream_seq, deliveries, received_at)"
        " VALUES ($1, $2, $3::jsonb, $4, $5, $6, now() - interval '1 hour')",
        "t.events.acme.reply_posted.v1",
        b"{}",
        headers,
        "value too long for type character varying",
        41,
        10,
    )
    await db_pool.execute(
        f"INSERT INTO {notify_schema}.dead_letters (consumer, stream, stream_seq, subject, headers, payload, error)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
        "notify",
        "T_EVENTS",
        42,
        "t.events.acme.closed.v1",
        "{}",
        b"garbage",
        "not an event: invalid JSON",
    )
    env = {"QUERY_DB_SCHEMA": query_schema, "NOTIFY_DB_SCHEMA": notify_schema}
    listing = Hostdesk(env={**hostdesk.env, **env})

    both = await listing("dead-letters", "list")
    query_only = await listing("dead-letters", "list", "--service", "query", "--limit", "5")

    assert both.exit_code == 0, both.output
    lines = [
        line
        for line in both.stdout.splitlines()
        if "dead_letters" not in line and ("notify" in line or "query" in line)
    ]
    assert "not an event" in lines[0]  # the newer one first
    assert "value too long" in lines[1]
    assert ticket_id in both.stdout
    assert "ticket.reply_posted.v1" in both.stdout
    assert query_only.exit_code == 0, query_only.output
    assert "value too long" in query_only.stdout
    assert "not an event" not in query_only.stdout


async def test_a_schema_without_the_table_is_said_not_failed(hostdesk: Hostdesk) -> None:
    listing = Hostdesk(env={**hostdesk.env, "QUERY_DB_SCHEMA": f"absent_{uuid.uuid4().hex[:8]}"})

    ran = await listing("dead-letters", "list", "--service", "query")

    assert ran.exit_code == 0, ran.output
    assert "No table absent_" in ran.stderr
