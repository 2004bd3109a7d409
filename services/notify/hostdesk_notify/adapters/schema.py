"""Notify's tables, created at start-up by idempotent SQL that replicas may run at the same time."""

from __future__ import annotations

import asyncpg

# Every replica takes this lock before its DDL, so that two starting at once do not race on the catalogue.
_MIGRATION_LOCK = "hostdesk_notify.schema"

_DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};

-- The events this consumer has handled: a redelivered event finds its row and sends nothing.
CREATE TABLE IF NOT EXISTS {schema}.inbox (
    consumer    text        NOT NULL,
    event_id    text        NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- What notify knows of each ticket to address its mail, as of the ticket's version: the last event handled.
CREATE TABLE IF NOT EXISTS {schema}.tickets (
    ticket_id        uuid        PRIMARY KEY,
    tenant           text        NOT NULL,
    number           bigint      NOT NULL,
    subject          text        NOT NULL,
    requester_email  text,
    cc               text[]      NOT NULL DEFAULT '{{}}',
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- Added once notify followed the whole lifecycle. A row kept before has no version: it takes events as they come.
ALTER TABLE {schema}.tickets
    ADD COLUMN IF NOT EXISTS assignee_id     text,
    ADD COLUMN IF NOT EXISTS assignee_email  text,
    ADD COLUMN IF NOT EXISTS version         bigint;
-- Added with the bound on mail per requester. A row kept before has none: only the bound per ticket applies to it.
ALTER TABLE {schema}.tickets ADD COLUMN IF NOT EXISTS requester_id text;
-- Added with the directory: whom the ticket is addressed to (NULL: its tenant's provider) and its department, so
-- that only its handling side reads its delivery log. A row kept before has neither: the provider handles it.
ALTER TABLE {schema}.tickets
    ADD COLUMN IF NOT EXISTS handling_organisation_id  text,
    ADD COLUMN IF NOT EXISTS department                text;

-- One mail per (event, recipient), written in the same transaction as the inbox row.
CREATE TABLE IF NOT EXISTS {schema}.outbox (
    event_id         text        NOT NULL,
    recipient        text        NOT NULL,
    message_id       text        NOT NULL UNIQUE,
    thread_id        text        NOT NULL,
    ticket_id        uuid        NOT NULL,
    tenant           text        NOT NULL,
    kind             text        NOT NULL,
    subject          text        NOT NULL,
    body             text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text,
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    sent_at          timestamptz,
    PRIMARY KEY (event_id, recipient)
);
CREATE INDEX IF NOT EXISTS outbox_due ON {schema}.outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_by_ticket ON {schema}.outbox (tenant, ticket_id, created_at);
-- Added with the bounds on mail: whose ticket a mail is about, and why a mail over a bound was held back.
ALTER TABLE {schema}.outbox
    ADD COLUMN IF NOT EXISTS requester_id       text,
    ADD COLUMN IF NOT EXISTS suppressed_reason  text;
CREATE INDEX IF NOT EXISTS outbox_by_requester ON {schema}.outbox (tenant, requester_id, created_at)
    WHERE requester_id IS NOT NULL;
-- Added with mail in each reader's language: the language a mail is written in. A row kept before has none.
ALTER TABLE {schema}.outbox ADD COLUMN IF NOT EXISTS language text;
-- A mail held back by a bound is 'suppressed'. The first check knew three statuses: replaced once, by name.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conname = 'outbox_status_known' AND conrelid = '{schema}.outbox'::regclass) THEN
        ALTER TABLE {schema}.outbox DROP CONSTRAINT IF EXISTS outbox_status_check;
        ALTER TABLE {schema}.outbox ADD CONSTRAINT outbox_status_known
            CHECK (status IN ('pending', 'sent', 'dead', 'suppressed'));
    END IF;
END $$;

-- Stream messages that could not be used, with their raw bytes, for staff to inspect and replay.
CREATE TABLE IF NOT EXISTS {schema}.dead_letters (
    id           bigserial   PRIMARY KEY,
    consumer     text        NOT NULL,
    stream       text        NOT NULL,
    stream_seq   bigint      NOT NULL,
    subject      text        NOT NULL,
    headers      jsonb       NOT NULL,
    payload      bytea       NOT NULL,
    error        text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consumer, stream, stream_seq)
);
"""


def quoted(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'


async def migrate(pool: asyncpg.Pool, *, schema: str) -> None:
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", _MIGRATION_LOCK)
        await connection.execute(_DDL.format(schema=quoted(schema)))
