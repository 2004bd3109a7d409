"""What callers send and receive over HTTP, and how a request becomes a command.

Requests repeat the commands' own limits, so a bad field answers 422 naming it, never a 500 when the
command is built; they refuse unknown fields, so a misspelt one is not silently dropped. Here are the
fields many requests share, the requests on a ticket's conversation, and the answers of every command.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from hostdesk_contracts.base import Channel, Priority, Status, Visibility
from hostdesk_contracts.commands import (
    Body,
    CloseTicket,
    EmailAddress,
    OpenTicket,
    PostReply,
    Subject,
    Tag,
    ticket_id_for,
)
from hostdesk_contracts.runtime.text import refuse_unstorable
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from hostdesk_intake.api.problems import InvalidField
from hostdesk_intake.domain.commands import Envelope
from hostdesk_intake.domain.status_labels import SETTABLE_STATUSES, StatusLabels, UnknownStatusLabel


def _readable(value: str) -> str:
    refuse_unstorable(value)  # refused here, named, rather than made storable downstream
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _settable(status: Status) -> Status:
    if status not in SETTABLE_STATUSES:
        raise ValueError(f"must be one of {', '.join(SETTABLE_STATUSES)}; a ticket is closed with POST .../close")
    return status


def _distinct(tags: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tags))  # the same tag twice is the tag once, in the order first given


Readable = AfterValidator(_readable)
Label = Annotated[str, StringConstraints(strip_whitespace=True), Field(max_length=100), Readable]
Text = Annotated[str, Field(max_length=1000), Readable]
SettableStatus = Annotated[
    Status,
    AfterValidator(_settable),
    WithJsonSchema({"type": "string", "enum": [status.value for status in SETTABLE_STATUSES]}),
]
Tags = Annotated[
    tuple[Annotated[Tag, StringConstraints(strip_whitespace=True), Readable], ...],
    Field(max_length=20, description="Each tag once; a repeated tag is kept once."),
    AfterValidator(_distinct),
]


def status_or_label(value: object, info: ValidationInfo, *, other: str) -> None:
    """A status may be given by name or by the provider's label, not both."""
    if value is not None and info.data.get(other) is not None:
        raise ValueError(f"give either {other} or {info.field_name}, not both")


def resolved_status(
    labels: StatusLabels, tenant: str, status: Status | None, label: str | None, *, field: str
) -> tuple[Status | None, str | None]:
    """The canonical status and the label as configured, from a status or the tenant's label in ``field``."""
    if label is None:
        return status, None
    try:
        found = labels.resolve(tenant, label)
    except UnknownStatusLabel as unknown:
        known = [{"label": each.label, "status": each.status.value} for each in unknown.known]
        raise InvalidField(field, str(unknown), known_labels=known) from unknown
    return found.status, found.label


class CommandRequest(BaseModel):
    """A request body: a misspelt or unknown field is refused, never dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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

    def to_command(self, envelope: Envelope) -> OpenTicket:
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

    @field_validator("status", "status_label")
    @classmethod
    def _only_on_public_posts(cls, value: object, info: ValidationInfo) -> object:
        if value is not None and info.data.get("visibility") is Visibility.INTERNAL:
            raise ValueError("an internal note changes no status")
        if info.field_name == "status_label":
            status_or_label(value, info, other="status")
        return value

    def to_command(self, envelope: Envelope, ticket_id: UUID, *, labels: StatusLabels) -> PostReply:
        status, label = resolved_status(
            labels, envelope.actor.tenant, self.status, self.status_label, field="status_label"
        )
        return envelope.command(
            PostReply, ticket_id, body=self.body, visibility=self.visibility, status=status, status_label=label
        )


class CloseRequest(CommandRequest):
    reason: Text | None = None

    def to_command(self, envelope: Envelope, ticket_id: UUID) -> CloseTicket:
        return envelope.command(CloseTicket, ticket_id, reason=self.reason)


class Committed(BaseModel):
    """The command is applied: the ticket it made or changed, and the ticket's version now."""

    command_id: str
    ticket_id: UUID
    number: int | None
    version: int | None


class Pending(BaseModel):
    """The command is stored and will be applied; ask ``Location`` for its outcome."""

    command_id: str
    ticket_id: UUID | None = Field(description="Unknown when only the command id is at hand.")
    status: Literal["pending"] = "pending"
