"""Ready-made actors, commands and tickets for the tickets service's unit tests, and the directory that names
the actors (``DIRECTORY``): the provider ``acme`` (departments Technical Support, Billing and Sales) with its
customers and its agent, and the provider ``globex`` with its own agent. Commands are decided with what that
directory says of them (``facts``, ``handle``), as the commands consumer decides them."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Actor, Role, Visibility
from hostdesk_contracts.commands import AnyCommand, CloseTicket, CommandBase, OpenTicket, PostReply, ticket_id_for
from hostdesk_contracts.directory import (
    AccountRecord,
    Configuration,
    Record,
    StaffRecord,
)
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.runtime.directory import Directory, MemoryDirectory
from hostdesk_tickets.domain.addressing import Opening, admit_opening
from hostdesk_tickets.domain.errors import TicketNotFound
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.application import Command, TicketsApplication
from hostdesk_tickets.service_layer.lookups import Facts, look_up

from tests.support import DEPARTMENTS, configuration_of, principal_records

CUSTOMER = Actor(account_id="cust-1", tenant="acme", role=Role.CUSTOMER, email="jo@example.com")
OTHER_CUSTOMER = Actor(account_id="cust-2", tenant="acme", role=Role.CUSTOMER)
STAFF = Actor(account_id="agent-1", tenant="acme", role=Role.AGENT, display_name="Sam")
COLLEAGUE = Actor(
    account_id="agent-2", tenant="acme", role=Role.AGENT, display_name="Kim", email="kim@provider.example"
)
FOREIGN_STAFF = Actor(account_id="agent-9", tenant="globex", role=Role.AGENT)
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SYSTEM = Actor(account_id="system", tenant="acme", role=Role.SYSTEM, display_name="HostDesk")

T = TypeVar("T", bound=CommandBase)
R = TypeVar("R")


def configuration(organisation_id: str, **fields: Any) -> Configuration:
    """An organisation's configuration with the departments and categories the tests name, unless given."""
    return configuration_of(organisation_id).model_copy(update=fields)


def records_of(*actors: Actor) -> tuple[Record, ...]:
    """The directory records naming each actor (``tests.support.principal_records``), staff members of every
    department the tests name."""
    records: list[Record] = []
    for actor in actors:
        for record in principal_records(actor):
            is_staff = isinstance(record, StaffRecord)
            records.append(record.model_copy(update={"departments": DEPARTMENTS}) if is_staff else record)
    return tuple(records)


def directory_of(*actors: Actor) -> MemoryDirectory:
    directory = MemoryDirectory()
    directory.put(*records_of(*actors))
    return directory


def at_once(coroutine: Coroutine[Any, Any, R]) -> R:
    """The result of a coroutine that never waits (a look-up in a ``MemoryDirectory``), in any thread or loop."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: R = done.value
        return result
    coroutine.close()
    raise AssertionError("a look-up in a memory directory waited")


def new_id() -> str:
    return str(uuid.uuid4())


def attachment(name: str = "error.log", *, content: bytes | None = None, media_type: str = "text/plain") -> Attachment:
    """The record of a file stored already (as intake makes it), with an id of its own."""
    content = content if content is not None else f"the bytes of {name}".encode()
    return Attachment(
        id=f"att_{uuid.uuid4().hex}",
        name=name,
        media_type=media_type,
        size=len(content),
        digest=hashlib.sha256(content).hexdigest(),
    )


def open_command(
    actor: Actor = CUSTOMER, command_id: str | None = None, *, attachments: Sequence[Attachment] = ()
) -> OpenTicket:
    command_id = command_id or new_id()
    return OpenTicket(
        command_id=command_id,
        ticket_id=ticket_id_for(command_id),
        actor=actor,
        issued_at=NOW,
        subject="Website down",
        body="example.com answers 502 since this morning.",
        attachments=tuple(attachments),
    )


DIRECTORY = directory_of(CUSTOMER, OTHER_CUSTOMER, STAFF, COLLEAGUE, FOREIGN_STAFF)


def staff_record(account_id: str) -> StaffRecord | AccountRecord | None:
    """The directory's record of ``account_id``: what an assignment is decided with."""
    return at_once(DIRECTORY.principal(account_id))


def facts(command: AnyCommand, directory: Directory | None = None) -> Facts:
    """What the directory says of ``command``, as the commands consumer looks it up."""
    return at_once(look_up(command, directory or DIRECTORY))


def handle(app: TicketsApplication, command: AnyCommand, directory: Directory | None = None) -> CommandOutcome:
    """``command`` applied by ``app`` with the facts ``directory`` (the tests' own by default) gives."""
    return app.handle(command, facts(command, directory))


def handle_batch(
    app: TicketsApplication, commands: Sequence[Command], directory: Directory | None = None
) -> list[CommandOutcome | TicketNotFound]:
    found = {c.command_id: facts(c, directory) for c in commands if isinstance(c, CommandBase)}
    return app.handle_batch(commands, found)


def opening_of(command: OpenTicket, directory: Directory | None = None) -> Opening:
    found = facts(command, directory)
    assert found.opening is not None
    return admit_opening(command, found.reach, found.opening)


def open_ticket(command: OpenTicket, *, number: int, directory: Directory | None = None) -> Ticket:
    """The ticket ``command`` opens, addressed as the directory allows."""
    return Ticket.open(command, opening=opening_of(command, directory), number=number)


def opened_ticket() -> Ticket:
    return open_ticket(open_command(), number=482913)


def reply(
    ticket: Ticket,
    actor: Actor,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    command_id: str | None = None,
    expected_version: int | None = None,
    attachments: Sequence[Attachment] = (),
) -> PostReply:
    return PostReply(
        command_id=command_id or new_id(),
        ticket_id=ticket.id,
        actor=actor,
        issued_at=NOW,
        body="Some words.",
        visibility=visibility,
        expected_version=expected_version,
        attachments=tuple(attachments),
    )


def close(ticket: Ticket, actor: Actor, *, command_id: str | None = None) -> CloseTicket:
    return CloseTicket(command_id=command_id or new_id(), ticket_id=ticket.id, actor=actor, issued_at=NOW)


def command(kind: type[T], ticket: Ticket, actor: Actor, **fields: Any) -> T:
    """Any command on ``ticket``, with a fresh command id unless one is given."""
    fields.setdefault("command_id", new_id())
    return kind(ticket_id=ticket.id, actor=actor, issued_at=NOW, **fields)
