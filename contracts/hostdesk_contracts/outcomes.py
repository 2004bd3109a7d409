"""What became of a command: the tickets service's answer, which intake turns into an HTTP response."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import Field

from hostdesk_contracts.base import Contract, Status


class Refusal(StrEnum):
    NOT_FOUND = "not_found"  # no such ticket, or not one the actor may see
    CONFLICT = "conflict"  # the ticket's state forbids the command
    STALE = "stale"  # the caller's expected version is not the ticket's


class CommandOutcome(Contract):
    command_id: str
    account_id: str = Field(description="Who issued the command; only they may read its outcome.")
    ticket_id: UUID
    result: Literal["committed", "refused"]
    version: int | None = Field(default=None, description="The ticket's version once the command applied.")
    number: int | None = None
    refusal: Refusal | None = None
    detail: str | None = None
    current_status: Status | None = None
    current_version: int | None = None
