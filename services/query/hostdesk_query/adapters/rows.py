"""How the read model's records map to the rows of its tables, and back.

A record's values are its row, but for a timeline entry's files: a post's attachments are one ``jsonb`` value
(NULL when it has none, as most entries), the list of their records as the contracts write them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg
from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Channel, Priority, Rating, Role, Side, Status, Visibility
from pydantic import TypeAdapter

from hostdesk_query.domain.language import Language
from hostdesk_query.domain.model import EntryKind, TicketRecord, TimelineEntry

# A record's values are its row: its fields are the columns, in order (``domain.model``), and asyncpg takes its
# enumerations as the text they are and its tuples as arrays.
TICKET_FIELDS: tuple[str, ...] = TicketRecord._fields
ENTRY_FIELDS: tuple[str, ...] = TimelineEntry._fields
TICKET_COLUMNS = ", ".join(TICKET_FIELDS)
ENTRY_COLUMNS = ", ".join(ENTRY_FIELDS)


def rows_of(records: Iterable[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Records as the plain tuples asyncpg writes fastest: it reads a named tuple's values through the generic
    sequence protocol, which made COPY take half as much CPU again."""
    return [tuple(record) for record in records]


_FILES: TypeAdapter[tuple[Attachment, ...]] = TypeAdapter(tuple[Attachment, ...])
_FILES_AT = ENTRY_FIELDS.index("attachments")


def entry_rows_of(entries: Sequence[TimelineEntry]) -> list[tuple[object, ...]]:
    """Entries as rows (``rows_of``), their files as JSON text, which asyncpg writes as ``jsonb``."""
    at = _FILES_AT
    return [(*entry[:at], files_json(entry.attachments), *entry[at + 1 :]) for entry in entries]


def files_json(attachments: tuple[Attachment, ...]) -> str | None:
    return _FILES.dump_json(attachments).decode() if attachments else None


def files_of(text: str | None) -> tuple[Attachment, ...]:
    return () if text is None else _FILES.validate_json(text)


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
        category=row["category"],
        tags=tuple(row["tags"]),
        assignee_id=row["assignee_id"],
        assignee_name=row["assignee_name"],
        archived=row["archived"],
        rating=None if row["rating"] is None else Rating(row["rating"]),
        rating_comment=row["rating_comment"],
        status_label=row["status_label"],
        merged_into_ticket_id=row["merged_into_ticket_id"],
        merged_into_number=row["merged_into_number"],
        handling_organisation_id=row["handling_organisation_id"],
        language=Language(row["language"]),
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
        part=row["part"],
        status_label=row["status_label"],
        from_value=row["from_value"],
        to_value=row["to_value"],
        from_label=row["from_label"],
        to_label=row["to_label"],
        from_values=None if row["from_values"] is None else tuple(row["from_values"]),
        to_values=None if row["to_values"] is None else tuple(row["to_values"]),
        related_ticket_id=row["related_ticket_id"],
        related_number=row["related_number"],
        automatic=row["automatic"],
        attachments=files_of(row["attachments"]),
    )
