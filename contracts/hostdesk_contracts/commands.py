"""Commands: what a caller asks the tickets service to do. Intake publishes them; tickets decides.

Every command has a stable ``command_id``: the same request retried carries the same id, and the tickets
service applies a command id once, however often it is delivered.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID, uuid5

from pydantic import AwareDatetime, Field, TypeAdapter

from hostdesk_contracts.base import Actor, Channel, Contract, Priority, Visibility

# Ticket ids of opened tickets derive from the command id, so a command delivered twice names one ticket.
TICKET_ID_NAMESPACE = UUID("8d7e3c1a-5b2f-4c6e-9a1d-0f4b7e2c9d35")

Subject = Annotated[str, Field(min_length=1, max_length=200)]
Body = Annotated[str, Field(min_length=1, max_length=65_536)]
EmailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


def ticket_id_for(command_id: str) -> UUID:
    """The id of the ticket that an open-ticket command creates."""
    return uuid5(TICKET_ID_NAMESPACE, command_id)


class CommandBase(Contract):
    command_id: str = Field(min_length=1, max_length=200)
    ticket_id: UUID
    actor: Actor
    issued_at: AwareDatetime
    expected_version: int | None = Field(
        default=None, ge=1, description="Refuse the command unless the ticket is at this version."
    )


class OpenTicket(CommandBase):
    type: Literal["ticket.open.v1"] = "ticket.open.v1"
    subject: Subject
    body: Body
    priority: Priority = Priority.NORMAL
    department: str | None = Field(default=None, max_length=100)
    channel: Channel = Channel.WEB
    cc: tuple[EmailAddress, ...] = Field(default=(), max_length=20)
    related_service: str | None = Field(default=None, max_length=100)


class PostReply(CommandBase):
    type: Literal["ticket.reply.v1"] = "ticket.reply.v1"
    body: Body
    visibility: Visibility = Visibility.PUBLIC


class CloseTicket(CommandBase):
    type: Literal["ticket.close.v1"] = "ticket.close.v1"
    reason: str | None = Field(default=None, max_length=1000)


Command = Annotated[OpenTicket | PostReply | CloseTicket, Field(discriminator="type")]
COMMAND_ADAPTER: TypeAdapter[OpenTicket | PostReply | CloseTicket] = TypeAdapter(Command)

# The last token of each command's NATS subject.
COMMAND_NAMES: dict[type[CommandBase], str] = {OpenTicket: "open", PostReply: "reply", CloseTicket: "close"}
