"""The requests of a ticket's conversation: opening it, replying (which may set a status), closing it."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from hostdesk_contracts.attachments import MAX_ATTACHMENTS_PER_POST, Attachment, AttachmentId
from hostdesk_contracts.base import Channel, Priority, Visibility
from hostdesk_contracts.commands import (
    Body,
    CloseTicket,
    EmailAddress,
    OpenTicket,
    PostReply,
    Subject,
    ticket_id_for,
)
from hostdesk_contracts.directory import DirectoryId
from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, field_validator

from hostdesk_intake.api.schemas.fields import (
    CommandRequest,
    Label,
    Readable,
    SettableStatus,
    Tags,
    Text,
    resolved_status,
    status_or_label,
)
from hostdesk_intake.domain.commands import Envelope
from hostdesk_intake.domain.status_labels import StatusLabels


def _each_once(ids: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(ids)) != len(ids):
        raise ValueError("each upload may be attached once")
    return ids


UploadIds = Annotated[
    tuple[AttachmentId, ...],
    Field(
        max_length=MAX_ATTACHMENTS_PER_POST,
        description="Files uploaded within the last day (POST /v1/attachments), by the ids it answered, each once.",
    ),
    AfterValidator(_each_once),
]


class OpenTicketRequest(CommandRequest):
    subject: Annotated[Subject, StringConstraints(strip_whitespace=True), Readable]
    body: Annotated[Body, Readable]
    priority: Priority = Priority.NORMAL
    department: Label | None = None
    category: Label | None = None
    cc: tuple[EmailAddress, ...] = Field(default=(), max_length=20)
    related_service: Label | None = None
    channel: Literal["web", "api"] = "web"
    tags: Tags = ()
    handling_organisation_id: DirectoryId | None = Field(
        default=None,
        description="Whom the ticket is addressed to: the requester's parent when left out, or any ancestor "
        "(GET /v1/directory/me lists them).",
    )
    requester_id: DirectoryId | None = Field(
        default=None,
        description="The handling side opening a ticket to an account below it: that account. The ticket starts "
        "answered, waiting for it.",
    )
    attachments: UploadIds = ()

    def to_command(self, envelope: Envelope, *, attachments: tuple[Attachment, ...] = ()) -> OpenTicket:
        return OpenTicket(
            command_id=envelope.command_id,
            ticket_id=ticket_id_for(envelope.command_id),
            actor=envelope.actor,
            issued_at=envelope.issued_at,
            subject=self.subject,
            body=self.body,
            priority=self.priority,
            department=self.department,
            category=self.category,
            channel=Channel(self.channel),
            cc=self.cc,
            related_service=self.related_service,
            tags=self.tags,
            handling_organisation_id=self.handling_organisation_id,
            requester_id=self.requester_id,
            attachments=attachments,
        )


class ReplyRequest(CommandRequest):
    body: Annotated[Body, Readable]
    visibility: Visibility = Visibility.PUBLIC
    status: SettableStatus | None = Field(
        default=None, description="The status a public staff reply sets instead of answered."
    )
    status_label: Label | None = Field(
        default=None, description="Or the provider's own label of that status (see GET /v1/status-labels)."
    )
    attachments: UploadIds = ()

    @field_validator("status", "status_label")
    @classmethod
    def _only_on_public_posts(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and info.data.get("visibility") is Visibility.INTERNAL:
            raise ValueError("an internal note changes no status")
        if info.field_name == "status_label":
            status_or_label(value, info, other="status")
        return value

    def to_command(
        self, envelope: Envelope, ticket_id: UUID, *, labels: StatusLabels, attachments: tuple[Attachment, ...] = ()
    ) -> PostReply:
        status, label = resolved_status(
            labels, envelope.actor.tenant, self.status, self.status_label, field="status_label"
        )
        return envelope.command(
            PostReply,
            ticket_id,
            body=self.body,
            visibility=self.visibility,
            status=status,
            status_label=label,
            attachments=attachments,
        )


class CloseRequest(CommandRequest):
    reason: Text | None = None

    def to_command(self, envelope: Envelope, ticket_id: UUID) -> CloseTicket:
        return envelope.command(CloseTicket, ticket_id, reason=self.reason)
