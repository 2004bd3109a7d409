"""Which command a request becomes: its id, and what every command carries besides its own fields.

A request with an ``Idempotency-Key`` always becomes the same command id, so a retried request is the same
command: JetStream drops the second publish and the tickets service applies the id once. Without a key,
every request is a new command. A request on many tickets (the bulk archive) is one command a ticket, each
id derived from the request's and the ticket's. The same key sent again with another request finds the first
request's outcome, which is not the second's to have: ``domain.idempotency`` records what each key asked.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4, uuid5

from hostdesk_contracts.base import Actor
from hostdesk_contracts.commands import CommandBase, OpenTicket, ticket_id_for
from hostdesk_contracts.directory import DirectoryCommand
from hostdesk_contracts.outcomes import CommandOutcome

IDEMPOTENCY_NAMESPACE = UUID("3f0c6b52-8e4d-4a57-b1f2-6d9e0a7c4b18")

# The characters an Idempotency-Key may hold: 1 to 200 printable ASCII characters.
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7E]{1,200}$"

C = TypeVar("C", bound=CommandBase)
D = TypeVar("D", bound=DirectoryCommand)
# What intake sends: a command about a ticket, or a change to the directory.
SentCommand = CommandBase | DirectoryCommand


def command_id_for(actor: Actor, idempotency_key: str | None, *, new_id: Callable[[], UUID] = uuid4) -> str:
    """The same key from the same account in the same tenant is always the same command.

    The three are hashed as a JSON array, never joined with a separator: account ``col`` with key ``a:X`` and
    account ``col:a`` with key ``X`` are two commands, as are any two different (tenant, account, key).
    """
    if idempotency_key is None:
        return str(new_id())
    return str(uuid5(IDEMPOTENCY_NAMESPACE, json.dumps([actor.tenant, actor.account_id, idempotency_key])))


@dataclass(frozen=True)
class Envelope:
    """What every command of one request carries: its id, who asks, when, and at which ticket version; and, for a
    request with an Idempotency-Key, the digest of what it asks (``domain.idempotency.request_digest``)."""

    command_id: str
    actor: Actor
    issued_at: datetime
    expected_version: int | None = None
    digest: str | None = None

    def command(self, kind: type[C], ticket_id: UUID, **fields: Any) -> C:
        """The command ``kind`` on ``ticket_id``, carrying this envelope and its own ``fields``."""
        return kind(
            command_id=self.command_id,
            ticket_id=ticket_id,
            actor=self.actor,
            issued_at=self.issued_at,
            expected_version=self.expected_version,
            **fields,
        )

    def directory(self, kind: type[D], **fields: Any) -> D:
        """The directory command ``kind``, carrying this envelope (its ``If-Match`` version) and ``fields``."""
        return kind(
            command_id=self.command_id,
            actor=self.actor,
            issued_at=self.issued_at,
            expected_version=self.expected_version,
            **fields,
        )

    def one_of_many(self, ticket_id: UUID) -> Envelope:
        """The envelope of the command on ``ticket_id`` among those of one request on many tickets.

        Its id derives from the request's, so a retried request (same Idempotency-Key) is the same commands.
        """
        return dataclasses.replace(self, command_id=str(uuid5(IDEMPOTENCY_NAMESPACE, f"{self.command_id}:{ticket_id}")))


def made_by_open(outcome: CommandOutcome) -> bool:
    """Whether the outcome is an open's: an open's ticket id derives from its command id."""
    return outcome.ticket_id == ticket_id_for(outcome.command_id)


def is_outcome_of(outcome: CommandOutcome, command: SentCommand) -> bool:
    """Whether ``outcome``, found under ``command``'s id, is about ``command``'s ticket, as ``command`` would be.

    What the request asked is judged before it is sent, on intake's own record of its key: the outcome's
    ``request_digest``, made by the tickets service over the whole command, covers how its actor is displayed
    too, and the tickets service makes it anew for a command id it has applied before.
    """
    if isinstance(command, DirectoryCommand):
        return outcome.key == command.key
    return outcome.ticket_id == command.ticket_id and made_by_open(outcome) == isinstance(command, OpenTicket)
