"""Callers, commands and outcomes for intake's unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from hostdesk_contracts.base import Actor, Role, Status
from hostdesk_contracts.commands import CloseTicket, CommandBase, OpenTicket, PostReply, ticket_id_for
from hostdesk_contracts.outcomes import CommandOutcome, Refusal

NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
CUSTOMER = Actor(account_id="cust-1042", tenant="acme", role=Role.CUSTOMER, display_name="Ada")
OTHER_CUSTOMER = Actor(account_id="cust-2001", tenant="acme", role=Role.CUSTOMER)


def open_command(*, command_id: str | None = None, actor: Actor = CUSTOMER) -> OpenTicket:
    command_id = command_id or str(uuid.uuid4())
    return OpenTicket(
        command_id=command_id,
        ticket_id=ticket_id_for(command_id),
        actor=actor,
        issued_at=NOW,
        subject="VPS down",
        body="vps-1042 does not answer.",
    )


def reply_command(ticket_id: UUID, *, command_id: str | None = None) -> PostReply:
    return PostReply(
        command_id=command_id or str(uuid.uuid4()),
        ticket_id=ticket_id,
        actor=CUSTOMER,
        issued_at=NOW,
        body="Still down.",
    )


def close_command(ticket_id: UUID) -> CloseTicket:
    return CloseTicket(command_id=str(uuid.uuid4()), ticket_id=ticket_id, actor=CUSTOMER, issued_at=NOW)


def committed(command: CommandBase, *, version: int = 1, number: int = 482913) -> CommandOutcome:
    return CommandOutcome.of(
        command,
        ticket_id=command.ticket_id,
        result="committed",
        version=version,
        number=number,
    )


def refused(
    command: CommandBase,
    refusal: Refusal | None,
    *,
    current_status: Status | None = None,
    current_version: int | None = None,
    detail: str | None = None,
    field: str | None = None,
    retry_after: int | None = None,
) -> CommandOutcome:
    return CommandOutcome.of(
        command,
        ticket_id=command.ticket_id,
        result="refused",
        refusal=refusal,
        current_status=current_status,
        current_version=current_version,
        detail=detail,
        field=field,
        retry_after=retry_after,
    )
