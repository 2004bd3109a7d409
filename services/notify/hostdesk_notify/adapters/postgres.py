"""Notify's storage on PostgreSQL. The pool's ``search_path`` names notify's schema."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.runtime import dead_letters as letters
from hostdesk_contracts.runtime.consumer import DeadLetter
from pydantic import TypeAdapter

from hostdesk_notify.adapters.ports import CONSUMER, Delivery, DeliveryStatus, KeptLetter, OutboxClaim, UnitOfWork
from hostdesk_notify.domain.bounds import RecentMail, Suppressed
from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.mail import OutgoingMail
from hostdesk_notify.domain.recipients import MailKind

if TYPE_CHECKING:
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]

# What a lost or busy PostgreSQL looks like: the same work may pass when tried again. Any other database error means
# PostgreSQL refuses the data itself, which no retry mends.
POSTGRES_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.TransactionRollbackError,  # deadlock or serialization failure: the same message may pass next time
)

_CLAIM_EVENT = """
INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true
"""
_SAVE_TICKET = """
INSERT INTO tickets (ticket_id, tenant, number, subject, requester_email, cc, assignee_id, assignee_email, version,
                     requester_id, handling_organisation_id, department)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (ticket_id) DO UPDATE SET
    requester_email = excluded.requester_email, cc = excluded.cc, assignee_id = excluded.assignee_id,
    assignee_email = excluded.assignee_email, version = excluded.version,
    requester_id = COALESCE(excluded.requester_id, tickets.requester_id),
    handling_organisation_id = COALESCE(excluded.handling_organisation_id, tickets.handling_organisation_id),
    department = excluded.department, updated_at = now()
"""
_TICKET_COLUMNS = """ticket_id, tenant, number, subject, requester_email, cc, assignee_id, assignee_email, version,
requester_id, handling_organisation_id, department"""
# FOR UPDATE: a replica handling the ticket's next event waits for this one's commit, then reads its result.
_TICKET = f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE ticket_id = $1 FOR UPDATE"
_TICKET_AS_KEPT = f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE ticket_id = $1 AND tenant = $2"
# $12 'pending', or 'suppressed' with its reason in $13: a suppressed mail is never due.
_FILES: TypeAdapter[tuple[Attachment, ...]] = TypeAdapter(tuple[Attachment, ...])
_QUEUE = """
INSERT INTO outbox (event_id, recipient, message_id, thread_id, ticket_id, tenant, kind, subject, body,
                    created_at, next_attempt_at, requester_id, status, suppressed_reason, language, reply_to,
                    attachments)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, $15, $16::jsonb)
ON CONFLICT DO NOTHING
"""
# What counts against the bounds: mail queued to the requesting side, not what was held back.
_TO_HANDLING_SIDE = ", ".join(f"'{kind.value}'" for kind in MailKind if kind.to_handling_side)
_COUNTED = f"created_at > $3 AND status <> 'suppressed' AND kind NOT IN ({_TO_HANDLING_SIDE})"
_RECENT_OF_TICKET = f"SELECT count(*) FROM outbox WHERE tenant = $1 AND ticket_id = $2 AND {_COUNTED}"
_RECENT_OF_REQUESTER = f"SELECT count(*) FROM outbox WHERE tenant = $1 AND requester_id = $2 AND {_COUNTED}"
# Held to the transaction's end: two replicas counting one requester's mail count one after the other.
_LOCK_REQUESTER = "SELECT pg_advisory_xact_lock(hashtext($1))"
_CLAIM_DUE = """
SELECT event_id, recipient, message_id, thread_id, ticket_id, tenant, kind, subject, body, attempts, requester_id,
       language, reply_to, attachments::text AS attachments
FROM outbox AS due WHERE status = 'pending' AND next_attempt_at <= $1
  AND NOT EXISTS (
    SELECT 1 FROM outbox AS earlier
    WHERE earlier.status = 'pending' AND earlier.tenant = due.tenant AND earlier.ticket_id = due.ticket_id
      AND earlier.recipient = due.recipient AND earlier.queued < due.queued
  )
ORDER BY next_attempt_at LIMIT 1
FOR UPDATE SKIP LOCKED
"""
_MARK_SENT = """
UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $3, last_error = NULL
WHERE event_id = $1 AND recipient = $2
"""
_MARK_FAILED = """
UPDATE outbox SET attempts = attempts + 1, last_error = $3,
       status = CASE WHEN $4::timestamptz IS NULL THEN 'dead' ELSE 'pending' END,
       next_attempt_at = COALESCE($4, next_attempt_at)
WHERE event_id = $1 AND recipient = $2
"""
_DEAD_LETTER = """
INSERT INTO dead_letters (consumer, stream, stream_seq, subject, headers, payload, error)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
ON CONFLICT (consumer, stream, stream_seq) DO NOTHING
"""
_DELIVERIES = """
SELECT event_id, recipient, subject, status, attempts, last_error, created_at, sent_at, suppressed_reason, language
FROM outbox WHERE tenant = $1 AND ticket_id = $2
ORDER BY created_at, event_id, recipient LIMIT $3
"""


_LETTER_COLUMNS = "id, stream, stream_seq, subject, headers, payload, error, received_at, replay_requested_at"


class PostgresUnitOfWork:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def claim_event(self, event_id: str) -> bool:
        return bool(await self._connection.fetchval(_CLAIM_EVENT, CONSUMER, event_id))

    async def save_ticket(self, ticket: TicketContact) -> None:
        await self._connection.execute(
            _SAVE_TICKET,
            ticket.ticket_id,
            ticket.tenant,
            ticket.number,
            ticket.subject,
            ticket.requester_email,
            list(ticket.cc),
            ticket.assignee_id,
            ticket.assignee_email,
            ticket.version,
            ticket.requester_id,
            ticket.handling_organisation_id,
            ticket.department,
        )

    async def ticket(self, ticket_id: UUID) -> TicketContact | None:
        row = await self._connection.fetchrow(_TICKET, ticket_id)
        return None if row is None else _contact_of(row)

    async def queue(self, mails: Sequence[OutgoingMail], *, now: datetime) -> None:
        await self._insert([(mail, None) for mail in mails], now=now)

    async def suppress(self, held: Sequence[Suppressed], *, now: datetime) -> None:
        await self._insert([(each.mail, each.reason) for each in held], now=now)

    async def recent_mail(self, ticket: TicketContact, *, since: datetime) -> RecentMail:
        of_ticket = await self._connection.fetchval(_RECENT_OF_TICKET, ticket.tenant, ticket.ticket_id, since)
        if ticket.requester_id is None:
            return RecentMail(ticket=of_ticket, requester=0)
        await self._connection.execute(
            _LOCK_REQUESTER, f"hostdesk_notify.requester:{ticket.tenant}:{ticket.requester_id}"
        )
        of_requester = await self._connection.fetchval(_RECENT_OF_REQUESTER, ticket.tenant, ticket.requester_id, since)
        return RecentMail(ticket=of_ticket, requester=of_requester)

    async def _insert(self, mails: Sequence[tuple[OutgoingMail, str | None]], *, now: datetime) -> None:
        if not mails:
            return
        await self._connection.executemany(
            _QUEUE,
            [
                (
                    m.event_id,
                    m.recipient,
                    m.message_id,
                    m.thread_id,
                    m.ticket_id,
                    m.tenant,
                    m.kind.value,
                    m.subject,
                    m.body,
                    now,
                    m.requester_id,
                    DeliveryStatus.PENDING.value if reason is None else DeliveryStatus.SUPPRESSED.value,
                    reason,
                    m.language,
                    m.reply_to,
                    _FILES.dump_json(m.attachments).decode(),
                )
                for m, reason in mails
            ],
        )


class PostgresClaim:
    def __init__(self, connection: Connection, *, mail: OutgoingMail, attempts: int) -> None:
        self._connection = connection
        self._mail = mail
        self._attempts = attempts

    @property
    def mail(self) -> OutgoingMail:
        return self._mail

    @property
    def attempts(self) -> int:
        return self._attempts

    async def sent(self, *, at: datetime) -> None:
        await self._connection.execute(_MARK_SENT, self._mail.event_id, self._mail.recipient, at)

    async def failed(self, *, error: str, retry_at: datetime | None) -> None:
        await self._connection.execute(_MARK_FAILED, self._mail.event_id, self._mail.recipient, error, retry_at)


def _contact_of(row: asyncpg.Record) -> TicketContact:
    return TicketContact(
        ticket_id=row["ticket_id"],
        tenant=row["tenant"],
        number=row["number"],
        subject=row["subject"],
        requester_email=row["requester_email"],
        cc=tuple(row["cc"]),
        assignee_id=row["assignee_id"],
        assignee_email=row["assignee_email"],
        version=row["version"],
        requester_id=row["requester_id"],
        handling_organisation_id=row["handling_organisation_id"],
        department=row["department"],
    )


def _mail_of(row: asyncpg.Record) -> OutgoingMail:
    return OutgoingMail(
        event_id=row["event_id"],
        recipient=row["recipient"],
        message_id=row["message_id"],
        thread_id=row["thread_id"],
        ticket_id=row["ticket_id"],
        tenant=row["tenant"],
        kind=MailKind(row["kind"]),
        subject=row["subject"],
        body=row["body"],
        requester_id=row["requester_id"],
        language=row["language"],
        reply_to=row["reply_to"],
        attachments=_FILES.validate_json(row["attachments"]),
    )


class PostgresStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        async with self._pool.acquire() as connection, connection.transaction():
            yield PostgresUnitOfWork(connection)

    @asynccontextmanager
    async def claim_due(self, *, now: datetime) -> AsyncIterator[OutboxClaim | None]:
        # The row stays locked while it is sent, so that replicas sharing the outbox never send it twice.
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(_CLAIM_DUE, now)
            yield None if row is None else PostgresClaim(connection, mail=_mail_of(row), attempts=row["attempts"])

    async def dead_letter(self, letter: DeadLetter) -> None:
        await self._pool.execute(
            _DEAD_LETTER,
            CONSUMER,
            letter.stream,
            letter.stream_seq,
            letter.subject,
            json.dumps(dict(letter.headers)),
            letter.data,
            letter.error,
        )

    async def kept_letters(self, *, subject_prefix: str, limit: int) -> list[KeptLetter]:
        return await self._letters(letters.newest_letters(_LETTER_COLUMNS), subject_prefix, limit)

    async def kept_letter(self, letter_id: int, *, subject_prefix: str) -> KeptLetter | None:
        found = await self._letters(letters.one_letter(_LETTER_COLUMNS), letter_id, subject_prefix)
        return found[0] if found else None

    async def letters_to_replay(self, *, limit: int) -> list[KeptLetter]:
        return await self._letters(letters.letters_asked_for(_LETTER_COLUMNS), limit)

    async def settle_letter(self, letter_id: int) -> None:
        await self._pool.execute(letters.SETTLE_LETTER, letter_id)

    async def keep_letter(self, letter_id: int, *, error: str) -> None:
        await self._pool.execute(letters.KEEP_LETTER, letter_id, error)

    async def _letters(self, sql: str, *args: object) -> list[KeptLetter]:
        return [
            KeptLetter(
                id=row["id"],
                letter=DeadLetter(
                    stream=row["stream"],
                    stream_seq=row["stream_seq"],
                    subject=row["subject"],
                    headers=letters.headers_of(row["headers"]),
                    data=bytes(row["payload"]),
                    error=row["error"],
                    deliveries=0,  # not kept: notify's letters keep their consumer instead
                ),
                received_at=row["received_at"],
                replay_requested=row["replay_requested_at"] is not None,
            )
            for row in await self._pool.fetch(sql, *args)
        ]

    async def ticket_of_tenant(self, ticket_id: UUID, tenant: str) -> TicketContact | None:
        row = await self._pool.fetchrow(_TICKET_AS_KEPT, ticket_id, tenant)
        return None if row is None else _contact_of(row)

    async def deliveries(self, ticket_id: UUID, *, tenant: str, limit: int) -> list[Delivery]:
        rows = await self._pool.fetch(_DELIVERIES, tenant, ticket_id, limit)
        return [_delivery_of(row) for row in rows]


def _delivery_of(row: asyncpg.Record) -> Delivery:
    values: dict[str, Any] = dict(row)
    values["status"] = DeliveryStatus(values["status"])
    return Delivery(**values)


async def create_pool(database_url: str, *, schema: str, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=max_size,
        command_timeout=10,
        # force_custom_plan: a generic plan chosen while the tables were nearly empty would stay for good.
        server_settings={
            "search_path": schema,
            "application_name": "hostdesk-notify",
            "plan_cache_mode": "force_custom_plan",
        },
        reset=_reset,
    )
    assert pool is not None
    return pool


async def _reset(connection: asyncpg.Connection) -> None:
    """What a connection given back to the pool is reset with: nothing, when it is idle. Notify changes no session
    setting, listens to nothing, keeps no cursor and takes only transaction-level locks, so asyncpg's default reset
    (a round trip on every release, every event) would undo nothing; a connection still in a transaction (a
    cancelled handler) gets the default reset."""
    if connection.is_in_transaction():
        await connection.reset()
