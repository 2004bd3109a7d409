"""The read model's tables, created at start-up by idempotent DDL. Replicas may start together: the DDL runs
under a transaction-level advisory lock."""

from __future__ import annotations

import asyncpg

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


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def ensure_schema(pool: asyncpg.Pool, schema: str) -> None:
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"hostdesk-query-ddl:{schema}")
        await connection.execute(_DDL.format(schema=_quoted(schema)))
