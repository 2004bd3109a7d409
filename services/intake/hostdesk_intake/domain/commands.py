"""Which command a request becomes: its id, and what every command carries besides its own fields.

A request with an ``Idempotency-Key`` always becomes the same command id, so a retried request is the same
command: JetStream drops the second publish and the tickets service applies the id once. Without a key,
every request is a new command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4, uuid5

from hostdesk_contracts.base import Actor

IDEMPOTENCY_NAMESPACE = UUID("3f0c6b52-8e4d-4a57-b1f2-6d9e0a7c4b18")

# The characters an Idempotency-Key may hold: 1 to 200 printable ASCII characters.
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7E]{1,200}$"


def command_id_for(actor: Actor, idempotency_key: str | None, *, new_id: Callable[[], UUID] = uuid4) -> str:
    """The same key from the same account in the same tenant is always the same command."""
    if idempotency_key is None:
        return str(new_id())
    return str(uuid5(IDEMPOTENCY_NAMESPACE, f"{actor.tenant}:{actor.account_id}:{idempotency_key}"))


@dataclass(frozen=True)
class Envelope:
    """What every command of one request carries: its id, who asks, when, and at which ticket version."""

    command_id: str
    actor: Actor
    issued_at: datetime
    expected_version: int | None = None
