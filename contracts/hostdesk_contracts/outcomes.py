"""What became of a command: the tickets service's answer, which intake turns into an HTTP response."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from hostdesk_contracts.base import Contract, Status
from hostdesk_contracts.commands import CommandBase
from hostdesk_contracts.directory import DirectoryCommand


class Refusal(StrEnum):
    NOT_FOUND = "not_found"  # no such ticket, or not one the actor may see
    CONFLICT = "conflict"  # the ticket's state forbids the command
    STALE = "stale"  # the caller's expected version is not the ticket's
    # The rules never allow what the command asks, whatever the ticket's state: more CC recipients than the
    # requesting side may set, a merge of two requesters' tickets. ``field`` names the field at fault.
    INVALID = "invalid"
    # Too many of these too fast (a requester's posts to one ticket): ``retry_after`` says when to try again.
    RATE_LIMITED = "rate_limited"


class CommandOutcome(Contract):
    command_id: str
    account_id: str = Field(description="Who issued the command; only they may read its outcome.")
    ticket_id: UUID | None = Field(default=None, description="The ticket, for a ticket command.")
    key: str | None = Field(default=None, description="The directory record, for a directory command.")
    result: Literal["committed", "refused"]
    version: int | None = Field(default=None, description="The ticket's version once the command applied.")
    number: int | None = None
    refusal: Refusal | None = None
    detail: str | None = None
    current_status: Status | None = None
    current_version: int | None = None
    field: str | None = Field(default=None, description="The command's field an ``invalid`` refusal is about.")
    retry_after: int | None = Field(
        default=None, ge=1, description="Seconds after which a ``rate_limited`` command may be sent again."
    )
    command_type: str | None = Field(default=None, description="The command's type, e.g. ticket.reply.v1.")
    request_digest: str | None = Field(
        default=None,
        description="SHA-256 of what the command asked (all of it but its time): the same Idempotency-Key sent "
        "again with another request is told apart from a retry.",
    )

    @classmethod
    def of(cls, command: CommandBase | DirectoryCommand, **fields: Any) -> CommandOutcome:
        """The outcome of ``command``, naming it, its issuer, its type and its request's digest (and, for a
        directory command, its record's key)."""
        if isinstance(command, DirectoryCommand):
            fields.setdefault("key", command.key)
        return cls(
            command_id=command.command_id,
            account_id=command.actor.account_id,
            command_type=type(command).model_fields["type"].default,
            request_digest=request_digest(command),
            **fields,
        )


def request_digest(command: CommandBase | DirectoryCommand) -> str:
    """What ``command`` asks, as a digest: equal for a retry of the same request, whenever it is sent."""
    return hashlib.sha256(command.model_dump_json(exclude={"issued_at"}).encode()).hexdigest()
