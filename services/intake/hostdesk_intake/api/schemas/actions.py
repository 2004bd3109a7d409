"""The requests of the actions on a ticket besides its conversation: status, assignment, fields, rating,
archive and merge. Each becomes one command (the bulk archive, one a ticket); those without a body are built
from the envelope alone.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from hostdesk_contracts.base import Actor, Assignee, Priority, Rating, Status
from hostdesk_contracts.commands import (
    ArchiveTicket,
    AssignTicket,
    ChangeStatus,
    EmailAddress,
    MergeTicket,
    RateTicket,
    UpdateTicket,
)
from hostdesk_contracts.runtime.problems import Forbidden
from hostdesk_contracts.runtime.text import refuse_unstorable
from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator

from hostdesk_intake.api.problems import InvalidField
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

MAX_BULK = 100
ID_LENGTH, NAME_LENGTH, EMAIL_LENGTH = 200, 200, 254  # what an Assignee holds


class ChangeStatusRequest(CommandRequest):
    """Exactly one of ``status`` (canonical) and ``label`` (the provider's own, see GET /v1/status-labels)."""

    status: SettableStatus | None = None
    label: Label | None = Field(default=None, validate_default=True)
    reason: Text | None = None

    @field_validator("label")
    @classmethod
    def _status_or_label(cls, label: str | None, info: ValidationInfo) -> str | None:
        status_or_label(label, info, other="status")
        if label is None and "status" in info.data and info.data["status"] is None:
            raise ValueError("give a status or a label")
        return label

    def to_command(self, envelope: Envelope, ticket_id: UUID, *, labels: StatusLabels) -> ChangeStatus:
        status, label = resolved_status(labels, envelope.actor.tenant, self.status, self.label, field="label")
        return envelope.command(ChangeStatus, ticket_id, status=status, status_label=label, reason=self.reason)


def resolve_command(envelope: Envelope, ticket_id: UUID) -> ChangeStatus:
    """ "Mark resolved": the one status change the requester may make too."""
    return envelope.command(ChangeStatus, ticket_id, status=Status.RESOLVED)


class AssigneeRequest(CommandRequest):
    account_id: Annotated[
        str, StringConstraints(strip_whitespace=True), Field(min_length=1, max_length=ID_LENGTH), Readable
    ]
    display_name: (
        Annotated[str, StringConstraints(strip_whitespace=True), Field(max_length=NAME_LENGTH), Readable] | None
    ) = None
    email: EmailAddress | None = None

    def to_command(self, envelope: Envelope, ticket_id: UUID) -> AssignTicket:
        assignee = Assignee(account_id=self.account_id, display_name=self.display_name, email=self.email)
        return envelope.command(AssignTicket, ticket_id, assignee=assignee)


def pickup_command(envelope: Envelope, ticket_id: UUID) -> AssignTicket:
    """The caller takes the ticket: assigned to themselves, named as their token names them."""
    return envelope.command(AssignTicket, ticket_id, assignee=assignee_of(envelope.actor))


def unassign_command(envelope: Envelope, ticket_id: UUID) -> AssignTicket:
    return envelope.command(AssignTicket, ticket_id, assignee=None)


def assignee_of(actor: Actor) -> Assignee:
    """The actor as an assignee: a name too long is cut, an address too long to be one is left out."""
    if not 1 <= len(actor.account_id) <= ID_LENGTH:
        raise Forbidden(f"An account whose id is not 1 to {ID_LENGTH} characters cannot be assigned tickets.")
    email = actor.email if actor.email is not None and len(actor.email) <= EMAIL_LENGTH else None
    name = actor.display_name[:NAME_LENGTH] if actor.display_name is not None else None
    return Assignee(account_id=actor.account_id, display_name=name, email=email)


class UpdateTicketRequest(CommandRequest):
    """The fields to change, at least one; a field left out stays as it is. ``[]`` clears CC or tags."""

    priority: Priority | None = None
    department: Label | None = None
    category: Label | None = None
    cc: tuple[EmailAddress, ...] | None = Field(default=None, max_length=20)
    tags: Tags | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> UpdateTicketRequest:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError(f"give at least one of {', '.join(type(self).model_fields)}")
        return self

    def to_command(self, envelope: Envelope, ticket_id: UUID) -> UpdateTicket:
        return envelope.command(UpdateTicket, ticket_id, **self.model_dump(exclude_none=True))


class RatingRequest(CommandRequest):
    rating: Rating
    comment: Annotated[str, Field(max_length=4000)] | None = Field(default=None, validate_default=True)

    @field_validator("comment")
    @classmethod
    def _complaint_when_unsatisfied(cls, comment: str | None, info: ValidationInfo) -> str | None:
        if comment is not None:
            refuse_unstorable(comment)
        written = (comment or "").strip() or None
        if written is None and info.data.get("rating") is Rating.UNSATISFIED:
            raise ValueError("an unsatisfied rating needs a written complaint")
        return written

    def to_command(self, envelope: Envelope, ticket_id: UUID) -> RateTicket:
        return envelope.command(RateTicket, ticket_id, rating=self.rating, comment=self.comment)


class MergeRequest(CommandRequest):
    into_ticket_id: UUID = Field(description="The ticket that gains this ticket's posts; this one is closed.")

    def to_command(self, envelope: Envelope, ticket_id: UUID) -> MergeTicket:
        if self.into_ticket_id == ticket_id:
            raise InvalidField("into_ticket_id", "A ticket cannot be merged into itself.")
        return envelope.command(MergeTicket, ticket_id, into_ticket_id=self.into_ticket_id)


def archive_command(envelope: Envelope, ticket_id: UUID) -> ArchiveTicket:
    return envelope.command(ArchiveTicket, ticket_id)


class BulkArchiveRequest(CommandRequest):
    ticket_ids: list[UUID] = Field(min_length=1, max_length=MAX_BULK, description="Each ticket once.")
    confirm: bool = Field(description="Must be true: archiving many tickets at once is confirmed.")

    @field_validator("ticket_ids")
    @classmethod
    def _each_once(cls, ticket_ids: list[UUID]) -> list[UUID]:
        if len(set(ticket_ids)) != len(ticket_ids):
            raise ValueError("name each ticket once")
        return ticket_ids

    @field_validator("confirm")
    @classmethod
    def _confirmed(cls, confirm: bool) -> bool:
        if not confirm:
            raise ValueError("archiving several tickets at once must be confirmed with true")
        return confirm

    def to_commands(self, envelope: Envelope) -> list[ArchiveTicket]:
        """One command a ticket, each id derived from the request's and the ticket's."""
        return [archive_command(envelope.one_of_many(ticket_id), ticket_id) for ticket_id in self.ticket_ids]
