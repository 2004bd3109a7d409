"""What callers send and receive over HTTP, and how a request becomes a command.

Requests repeat the commands' own limits, so a bad field answers 422 naming it, never a 500 when the
command is built; they refuse unknown fields, so a misspelt one is not silently dropped.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

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
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from hostdesk_intake.domain.commands import Envelope


def _readable(value: str) -> str:
    if "\x00" in value:  # PostgreSQL text cannot hold it; refuse it here rather than fail downstream
        raise ValueError("must not contain NUL characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Readable = AfterValidator(_readable)
Label = Annotated[str, StringConstraints(strip_whitespace=True), Field(max_length=100), Readable]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpenTicketRequest(_Request):
    subject: Annotated[Subject, StringConstraints(strip_whitespace=True), Readable]
    body: Annotated[Body, Readable]
    priority: Priority = Priority.NORMAL
    department: Label | None = None
    cc: tuple[EmailAddress, ...] = Field(default=(), max_length=20)
    related_service: Label | None = None
    channel: Literal["web", "api"] = "web"

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
            channel=Channel(self.channel),
            cc=self.cc,
            related_service=self.related_service,
        )


class ReplyRequest(_Request):
    body: Annotated[Body, Readable]
    visibility: Visibility = Visibility.PUBLIC

    def to_command(self, envelope: Envelope, ticket_id: UUID) -> PostReply:
        return PostReply(
            command_id=envelope.command_id,
            ticket_id=ticket_id,
            actor=envelope.actor,
            issued_at=envelope.issued_at,
            expected_version=envelope.expected_version,
            body=self.body,
            visibility=self.visibility,
        )


class CloseRequest(_Request):
    reason: Annotated[str, Field(max_length=1000), Readable] | None = None

    def to_command(self, envelope: Envelope, ticket_id: UUID) -> CloseTicket:
        return CloseTicket(
            command_id=envelope.command_id,
            ticket_id=ticket_id,
            actor=envelope.actor,
            issued_at=envelope.issued_at,
            expected_version=envelope.expected_version,
            reason=self.reason,
        )


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
