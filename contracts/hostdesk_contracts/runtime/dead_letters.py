"""What query and notify share about the events they set aside (their ``dead_letters`` tables): who may see and
replay them, what a replay comes to, and how one is shown over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.runtime.problems import Forbidden


class Replayed(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # applied already: no longer kept either
    WAITING = "waiting"  # its ticket has not reached the version before it yet
    REFUSED = "refused"  # the database still refuses its data
    UNDECODABLE = "undecodable"  # still no event this release can read, or not signed by the relay


@dataclass(frozen=True, slots=True)
class ReplayResult:
    outcome: Replayed
    error: str | None = None  # why it is still kept

    @property
    def settled(self) -> bool:
        return self.outcome in (Replayed.APPLIED, Replayed.DUPLICATE)


class DeadLetterOut(BaseModel):
    id: int
    received_at: datetime
    subject: str
    stream_seq: int | None
    deliveries: int | None
    event_type: str | None
    ticket_id: str | None
    error: str
    size: int = Field(description="The message's bytes, kept raw.")
    replay_requested: bool = Field(description="The command line asked for a replay, not done yet.")


class ReplayOut(BaseModel):
    outcome: Replayed = Field(description="``applied`` and ``duplicate``: no longer kept; else kept still.")
    error: str | None = Field(description="Why it is still kept.")


def operated_events(actor: Actor, handles: str | None, root: str) -> str:
    """The subject prefix of the events of the caller's tenant, when it operates the tenant: the provider account,
    or a supervisor of the provider's. Anyone else: 403 (the role may never; it reveals nothing of any ticket)."""
    if actor.role not in (Role.PROVIDER, Role.SUPERVISOR) or handles != actor.tenant:
        raise Forbidden("Only the provider and its supervisors see and replay the events set aside.")
    return f"{root}.events.{actor.tenant}."
