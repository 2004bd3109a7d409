"""How the read model's records map to the rows of its tables, and back."""

from __future__ import annotations

import asyncpg
from hostdesk_contracts.base import Channel, Priority, Role, Side, Status, Visibility

from hostdesk_query.domain.model import EntryKind, TicketRecord, TimelineEntry

TICKET_COLUMNS = (
    "ticket_id, tenant, number, subject, requester_id, requester_name, requester_email, requester_role, status,"
    " priority, department, channel, cc, related_service, created_at, last_post_at, updated_at, version"
)
ENTRY_COLUMNS = (
    "ticket_id, version, kind, occurred_at, actor_id, actor_name, actor_role, side, body, visibility, post_id,"
    " from_status, to_status, reason"
)


def ticket_args(ticket: TicketRecord) -> tuple[object, ...]:
    return (
        ticket.ticket_id,
        ticket.tenant,
        ticket.number,
        ticket.subject,
        ticket.requester_id,
        ticket.requester_name,
        ticket.requester_email,
        ticket.requester_role.value,
        ticket.status.value,
        ticket.priority.value,
        ticket.department,
        ticket.channel.value,
        list(ticket.cc),
        ticket.related_service,
        ticket.created_at,
        ticket.last_post_at,
        ticket.updated_at,
        ticket.version,
    )


def entry_args(entry: TimelineEntry) -> tuple[object, ...]:
    return (
        entry.ticket_id,
        entry.version,
        entry.kind.value,
        entry.occurred_at,
        entry.actor_id,
        entry.actor_name,
        entry.actor_role.value,
        entry.side.value,
        entry.body,
        None if entry.visibility is None else entry.visibility.value,
        entry.post_id,
        None if entry.from_status is None else entry.from_status.value,
        None if entry.to_status is None else entry.to_status.value,
        entry.reason,
    )


def ticket_of(row: asyncpg.Record) -> TicketRecord:
    return TicketRecord(
        ticket_id=row["ticket_id"],
        tenant=row["tenant"],
        number=row["number"],
        subject=row["subject"],
        requester_id=row["requester_id"],
        requester_name=row["requester_name"],
        requester_email=row["requester_email"],
        requester_role=Role(row["requester_role"]),
        status=Status(row["status"]),
        priority=Priority(row["priority"]),
        department=row["department"],
        channel=Channel(row["channel"]),
        cc=tuple(row["cc"]),
        related_service=row["related_service"],
        created_at=row["created_at"],
        last_post_at=row["last_post_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


def entry_of(row: asyncpg.Record) -> TimelineEntry:
    return TimelineEntry(
        ticket_id=row["ticket_id"],
        version=row["version"],
        kind=EntryKind(row["kind"]),
        occurred_at=row["occurred_at"],
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        actor_role=Role(row["actor_role"]),
        side=Side(row["side"]),
        body=row["body"],
        visibility=None if row["visibility"] is None else Visibility(row["visibility"]),
        post_id=row["post_id"],
        from_status=None if row["from_status"] is None else Status(row["from_status"]),
        to_status=None if row["to_status"] is None else Status(row["to_status"]),
        reason=row["reason"],
    )
