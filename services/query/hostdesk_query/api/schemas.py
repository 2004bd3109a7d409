"""What the HTTP API answers. Built from the read model's records, never the records themselves.

The handling side's own fields of a ticket (its assignee and tags) are left out of the answers to the requesting
side: the routes leave out every field not set, and only answers to the handling side of that ticket set them.

Versions: the log's versions count every event of a ticket, the handling side's own included (internal notes,
tags, assignments). The requesting side is shown no entry's version (nor its ``part``, which counts a merge's
internal posts too): its entries carry their ``position`` among the entries it sees (``domain.paging``). It is
shown the ticket's current ``version``, as staff are: intake's commands take it in ``If-Match`` and answer it
for ``min_version``, so the requester's own writes need it; it tells how many events the ticket has in all, not
which or when.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Channel, Priority, Rating, Role, Side, Status, Visibility
from pydantic import BaseModel, ConfigDict, Field

from hostdesk_query.domain.counting import Tally, TicketCounts
from hostdesk_query.domain.live import ChangeKind, LiveChange
from hostdesk_query.domain.model import EntryKind, TicketRecord, TicketView, TimelineEntry
from hostdesk_query.domain.search import SearchKind


class TimelineOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


class Schema(BaseModel):
    model_config = ConfigDict(frozen=True)


class Requester(Schema):
    account_id: str
    name: str | None
    email: str | None


class EntryActor(Schema):
    account_id: str
    name: str | None
    role: Role


class AssigneeOut(Schema):
    account_id: str
    name: str | None


class RatingOut(Schema):
    rating: Rating
    comment: str | None


class TicketLink(Schema):
    ticket_id: UUID
    number: int


class TicketOut(Schema):
    ticket_id: UUID
    number: int
    subject: str
    status: Status
    status_label: str | None = Field(description="The provider's own label of the status, when it set one.")
    priority: Priority
    department: str | None
    category: str | None
    channel: Channel
    requester: Requester
    handling_organisation_id: str | None = Field(
        default=None,
        description="The account the ticket is addressed to: a provider, a reseller, or a customer answering its "
        "subaccounts. Null for a ticket opened before the directory, which the tenant's provider handles.",
    )
    cc: tuple[str, ...]
    related_service: str | None
    archived: bool
    rating: RatingOut | None = Field(description="The requester's rating of the support, once given.")
    merged_into: TicketLink | None = Field(description="The ticket this one was merged into, if it was.")
    assignee: AssigneeOut | None = Field(
        default=None, description="Only for the handling side: the staff member handling the ticket, or null."
    )
    tags: tuple[str, ...] | None = Field(default=None, description="Only for the handling side: its own tags.")
    created_at: datetime
    last_post_at: datetime
    updated_at: datetime
    version: int = Field(
        description="The ticket's version: the number of events applied to it. For If-Match and min_version."
    )

    @classmethod
    def of(cls, ticket: TicketRecord, *, handling: bool) -> TicketOut:
        """``handling``: the reader is on the handling side, and reads its own fields."""
        return cls(**cls.fields_of(ticket, handling=handling))

    @staticmethod
    def fields_of(ticket: TicketRecord, *, handling: bool) -> dict[str, object]:
        fields: dict[str, object] = {
            "ticket_id": ticket.ticket_id,
            "number": ticket.number,
            "subject": ticket.subject,
            "status": ticket.status,
            "status_label": ticket.status_label,
            "priority": ticket.priority,
            "department": ticket.department,
            "category": ticket.category,
            "channel": ticket.channel,
            "requester": Requester(
                account_id=ticket.requester_id, name=ticket.requester_name, email=ticket.requester_email
            ),
            "handling_organisation_id": ticket.handling_organisation_id,
            "cc": ticket.cc,
            "related_service": ticket.related_service,
            "archived": ticket.archived,
            "rating": None if ticket.rating is None else RatingOut(rating=ticket.rating, comment=ticket.rating_comment),
            "merged_into": _link(ticket.merged_into_ticket_id, ticket.merged_into_number),
            "created_at": ticket.created_at,
            "last_post_at": ticket.last_post_at,
            "updated_at": ticket.updated_at,
            "version": ticket.version,
        }
        if handling:
            fields["tags"] = ticket.tags
            fields["assignee"] = (
                None
                if ticket.assignee_id is None
                else AssigneeOut(account_id=ticket.assignee_id, name=ticket.assignee_name)
            )
        return fields


def _link(ticket_id: UUID | None, number: int | None) -> TicketLink | None:
    return None if ticket_id is None or number is None else TicketLink(ticket_id=ticket_id, number=number)


class AttachmentOut(Schema):
    id: str = Field(description="Downloaded at ``GET /v1/tickets/{ticket_id}/attachments/{id}``.")
    name: str = Field(description="The file's safe name, which a download offers it under.")
    media_type: str = Field(description="Sniffed from the file's bytes when it was uploaded.")
    size: int = Field(description="In bytes.")

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(id=attachment.id, name=attachment.name, media_type=attachment.media_type, size=attachment.size)


class TimelineEntryOut(Schema):
    position: int = Field(
        description="The entry's place among the entries the caller sees, in the order they were made, from 1."
    )
    version: int | None = Field(
        default=None, description="Only for the handling side: the version of the event that made the entry."
    )
    part: int | None = Field(
        default=None,
        description="Only for the handling side: which of the entries of that event (a merge makes one per post).",
    )
    kind: EntryKind
    occurred_at: datetime
    actor: EntryActor
    side: Side
    visibility: Visibility | None = Field(description="Internal entries are never shown to the requesting side.")
    body: str | None = Field(description="A post's text, or the comment of a rating.")
    post_id: str | None
    from_status: Status | None
    to_status: Status | None
    status_label: str | None = Field(description="The provider's own label of the new status.")
    reason: str | None
    from_value: str | None = Field(description="The value before: priority, department, category, assignee.")
    to_value: str | None = Field(description="The value after, or the rating given.")
    from_label: str | None = Field(description="The name of the value before, where it has one (an assignee).")
    to_label: str | None = Field(description="The name of the value after, where it has one.")
    from_values: tuple[str, ...] | None = Field(description="The list before: CC recipients or tags.")
    to_values: tuple[str, ...] | None = Field(description="The list after.")
    related_ticket: TicketLink | None = Field(
        description="The other ticket of a merge: where this one went, or where a merged post came from."
    )
    automatic: bool = Field(description="Done by the system itself, e.g. a ticket closed after waiting.")
    attachments: tuple[AttachmentOut, ...] = Field(
        description="The files of a post (the opening one included), to whoever sees the post: an internal note's"
        " only to the handling side. Each is named, typed and sized; its digest (the SHA-256 it is stored by) is"
        " not shown. Empty for every other entry."
    )

    @classmethod
    def of(cls, entry: TimelineEntry, *, position: int, handling: bool) -> TimelineEntryOut:
        log_place: dict[str, object] = {"version": entry.version, "part": entry.part} if handling else {}
        return cls(
            position=position,
            **log_place,
            kind=entry.kind,
            occurred_at=entry.occurred_at,
            actor=EntryActor(account_id=entry.actor_id, name=entry.actor_name, role=entry.actor_role),
            side=entry.side,
            visibility=entry.visibility,
            body=entry.body,
            post_id=entry.post_id,
            from_status=entry.from_status,
            to_status=entry.to_status,
            status_label=entry.status_label,
            reason=entry.reason,
            from_value=entry.from_value,
            to_value=entry.to_value,
            from_label=entry.from_label,
            to_label=entry.to_label,
            from_values=entry.from_values,
            to_values=entry.to_values,
            related_ticket=_link(entry.related_ticket_id, entry.related_number),
            automatic=entry.automatic,
            attachments=tuple(AttachmentOut.of(attachment) for attachment in entry.attachments),
        )


class TicketDetailOut(TicketOut):
    timeline: tuple[TimelineEntryOut, ...] = Field(description="A page of the timeline, in the order asked for.")
    timeline_next_cursor: str | None = Field(
        description="Pass as ``timeline_cursor`` for the next page of the timeline; null on its last page."
    )

    @classmethod
    def of_view(cls, view: TicketView, *, handling: bool, next_cursor: str | None) -> TicketDetailOut:
        return cls(
            **cls.fields_of(view.ticket, handling=handling),
            timeline=tuple(
                TimelineEntryOut.of(entry, position=position, handling=handling)
                for entry, position in zip(view.timeline, view.positions, strict=True)
            ),
            timeline_next_cursor=next_cursor,
        )


class TicketPage(Schema):
    items: tuple[TicketOut, ...]
    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next page; null on the last page.")


class TallyOut(Schema):
    count: int
    exact: bool = Field(description="False: at least ``count`` (more than the read model counts for such a filter).")

    @classmethod
    def of(cls, tally: Tally) -> TallyOut:
        return cls(count=tally.count, exact=tally.exact)


class StatusCountOut(TallyOut):
    status: Status


class DepartmentCountOut(TallyOut):
    department: str | None = Field(description="Null: the tickets in no department.")


class TicketCountsOut(Schema):
    total: TallyOut
    statuses: tuple[StatusCountOut, ...] = Field(description="Each status with tickets, in the statuses' order.")
    departments: tuple[DepartmentCountOut, ...] = Field(description="Each department with tickets, by name.")

    @classmethod
    def of(cls, counts: TicketCounts) -> TicketCountsOut:
        statuses = [status for status in Status if status in counts.statuses]
        departments = sorted(counts.departments, key=lambda name: (name is None, name or ""))
        return cls(
            total=TallyOut.of(counts.total),
            statuses=tuple(
                StatusCountOut(status=status, **TallyOut.of(counts.statuses[status]).model_dump())
                for status in statuses
            ),
            departments=tuple(
                DepartmentCountOut(department=name, **TallyOut.of(counts.departments[name]).model_dump())
                for name in departments
            ),
        )


class HomeSectionOut(Schema):
    items: tuple[TicketOut, ...]
    more: bool = Field(description="The list holds more tickets than these (the list API reads them all).")


class HomeOut(Schema):
    assigned_to_me: HomeSectionOut = Field(
        description="Assigned to the caller, neither resolved nor closed: the most urgent first, then the oldest."
    )
    newest_unassigned: HomeSectionOut = Field(
        description="Assigned to nobody, neither resolved nor closed nor archived: the newest first."
    )
    counts: TicketCountsOut = Field(description="The tickets not archived, per status and per department.")


class SearchHitOut(Schema):
    ticket: TicketOut
    subject_html: str | None = Field(
        description="HTML: the subject escaped, each word found in ``<mark>``; null for a number or an address."
    )
    snippet_html: str | None = Field(
        description="HTML: a passage of the newest post the caller may read that holds the words, escaped, each"
        " word found in ``<mark>``; null when only the subject holds them, or for a number or an address."
    )


class SearchOut(Schema):
    kind: SearchKind = Field(description="What the text was read as: a ticket number, an e-mail address, words.")
    items: tuple[SearchHitOut, ...]
    more: bool = Field(description="More tickets match than these: add a word, or a filter.")
    goes_to: UUID | None = Field(
        description="The one ticket of the number searched, for a client to open straight away; else null."
    )


class LiveChangeOut(Schema):
    ticket_id: UUID
    number: int
    version: int = Field(description="The ticket's version once changed: read it with ``min_version``.")
    change: ChangeKind
    occurred_at: datetime

    @classmethod
    def of(cls, change: LiveChange) -> LiveChangeOut:
        return cls(
            ticket_id=change.ticket_id,
            number=change.number,
            version=change.version,
            change=change.kind,
            occurred_at=change.occurred_at,
        )
