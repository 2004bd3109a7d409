"""Ready-made actors, commands and tickets for the tickets service's unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

from hostdesk_contracts.base import Actor, Role, Visibility
from hostdesk_contracts.commands import CloseTicket, CommandBase, OpenTicket, PostReply, ticket_id_for
from hostdesk_tickets.domain.ticket import Ticket

CUSTOMER = Actor(account_id="cust-1", tenant="acme", role=Role.CUSTOMER, email="jo@example.com")
OTHER_CUSTOMER = Actor(account_id="cust-2", tenant="acme", role=Role.CUSTOMER)
STAFF = Actor(account_id="agent-1", tenant="acme", role=Role.AGENT, display_name="Sam")
FOREIGN_STAFF = Actor(account_id="agent-9", tenant="globex", role=Role.AGENT)
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SYSTEM = Actor(account_id="system", tenant="acme", role=Role.SYSTEM, display_name="HostDesk")

T = TypeVar("T", bound=CommandBase)


def new_id() -> str:
    return str(uuid.uuid4())


def open_command(actor: Actor = CUSTOMER, command_id: str | None = None) -> OpenTicket:
    command_id = command_id or new_id()
    return OpenTicket(
        command_id=command_id,
        ticket_id=ticket_id_for(command_id),
        actor=actor,
        issued_at=NOW,
        subject="Website down",
        body="example.com answers 502 since this morning.",
    )


def opened_ticket() -> Ticket:
    return Ticket.open(open_command(), number=482913)


def reply(
    ticket: Ticket,
    actor: Actor,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    command_id: str | None = None,
    expected_version: int | None = None,
) -> PostReply:
    return PostReply(
        command_id=command_id or new_id(),
        ticket_id=ticket.id,
        actor=actor,
        issued_at=NOW,
        body="Some words.",
        visibility=visibility,
        expected_version=expected_version,
    )


def close(ticket: Ticket, actor: Actor, *, command_id: str | None = None) -> CloseTicket:
    return CloseTicket(command_id=command_id or new_id(), ticket_id=ticket.id, actor=actor, issued_at=NOW)


def command(kind: type[T], ticket: Ticket, actor: Actor, **fields: Any) -> T:
    """Any command on ``ticket``, with a fresh command id unless one is given."""
    fields.setdefault("command_id", new_id())
    return kind(ticket_id=ticket.id, actor=actor, issued_at=NOW, **fields)
