"""What intake answers: a command committed or pending, what became of each ticket of a bulk archive, and a
tenant's status labels."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from hostdesk_contracts.base import Status
from hostdesk_contracts.commands import ArchiveTicket
from hostdesk_contracts.directory import DirectoryCommand
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from pydantic import BaseModel, Field

from hostdesk_intake.domain.status_labels import StatusLabel

NOT_FOUND_DETAIL = "no such ticket"


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


class ArchiveResult(BaseModel):
    """What became of one ticket of a bulk archive. A refusal says why and, when known, the ticket's status."""

    ticket_id: UUID
    command_id: str = Field(description="Ask GET /v1/commands/{command_id} about a pending one.")
    result: Literal["archived", "refused", "pending"]
    version: int | None = None
    status: Status | None = None
    detail: str | None = None

    @classmethod
    def of(cls, command: ArchiveTicket, outcome: CommandOutcome | None) -> ArchiveResult:
        ids = {"ticket_id": command.ticket_id, "command_id": command.command_id}
        if outcome is None:
            return cls(result="pending", **ids)
        if outcome.result == "committed":
            return cls(result="archived", version=outcome.version, **ids)
        if outcome.refusal is Refusal.NOT_FOUND:
            return cls(result="refused", detail=NOT_FOUND_DETAIL, **ids)
        return cls(result="refused", status=outcome.current_status, detail=outcome.detail, **ids)


class DirectoryCommitted(BaseModel):
    """The directory record is changed (or was already so): its key and its version now."""

    command_id: str
    key: str
    version: int | None


class DirectoryResult(BaseModel):
    """What became of one record of a bulk synchronisation. A refusal says why and, for ``invalid``, which field."""

    key: str
    command_id: str = Field(description="Ask GET /v1/commands/{command_id} about a pending one.")
    result: Literal["committed", "refused", "pending"]
    version: int | None = None
    refusal: Refusal | None = None
    field: str | None = None
    detail: str | None = None

    @classmethod
    def of(cls, command: DirectoryCommand, outcome: CommandOutcome | None) -> DirectoryResult:
        ids = {"key": command.key, "command_id": command.command_id}
        if outcome is None:
            return cls(result="pending", **ids)
        if outcome.result == "committed":
            return cls(result="committed", version=outcome.version, **ids)
        if outcome.refusal is Refusal.NOT_FOUND:
            return cls(result="refused", refusal=outcome.refusal, detail="no such record that you may change", **ids)
        return cls(result="refused", refusal=outcome.refusal, field=outcome.field, detail=outcome.detail, **ids)


class BulkDirectoryAnswer(BaseModel):
    results: list[DirectoryResult] = Field(description="One a record, parents before their children.")


class NewApiKey(BaseModel):
    """A key just made. ``key`` is shown this once: only its SHA-256 is kept."""

    id: str
    key: str
    account_id: str
    scopes: list[str]
    command_id: str
    result: Literal["committed", "pending"]
    version: int | None = None


class BulkArchiveAnswer(BaseModel):
    results: list[ArchiveResult] = Field(description="One a ticket, in the order of the request.")


class KnownLabel(BaseModel):
    label: str
    status: Status


class StatusLabelsAnswer(BaseModel):
    """The caller's tenant's own status labels, each with the canonical status it stands for."""

    tenant: str
    labels: list[KnownLabel]

    @classmethod
    def of(cls, tenant: str, labels: tuple[StatusLabel, ...]) -> StatusLabelsAnswer:
        return cls(tenant=tenant, labels=[KnownLabel(label=each.label, status=each.status) for each in labels])
