"""What query and notify share about the events they set aside (their ``dead_letters`` tables): who may see and
replay them, what a replay comes to, and how one is shown over HTTP."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.runtime.problems import Forbidden
from hostdesk_contracts.subjects import EVENT_TYPE, TICKET_ID

LetterId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The dead letter's id.")]
# What the dead letters' routes answer beside the API's usual problems.
LETTER_PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: {"model": Problem, "description": "Only the provider and its supervisors see the events set aside."},
    404: {"model": Problem, "description": "No such dead letter of this tenant (a replay)."},
}


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


# The statements on a service's ``dead_letters`` table (its search_path's), for ``columns`` of its own.
def newest_letters(columns: str) -> str:
    """$1 the subject prefix, $2 how many."""
    return f"SELECT {columns} FROM dead_letters WHERE left(subject, length($1)) = $1 ORDER BY id DESC LIMIT $2"


def one_letter(columns: str) -> str:
    """$1 its id, $2 the subject prefix."""
    return f"SELECT {columns} FROM dead_letters WHERE id = $1 AND left(subject, length($2)) = $2"


def letters_asked_for(columns: str) -> str:
    """$1 how many: the letters whose replay the command line asked for, oldest first."""
    return f"SELECT {columns} FROM dead_letters WHERE replay_requested_at IS NOT NULL ORDER BY id LIMIT $1"


SETTLE_LETTER = "DELETE FROM dead_letters WHERE id = $1"
KEEP_LETTER = "UPDATE dead_letters SET error = $2, replays = replays + 1, replay_requested_at = NULL WHERE id = $1"


def headers_of(value: object) -> dict[str, str]:
    """A letter's headers as kept (``jsonb``, which asyncpg hands over as text); anything else as none."""
    try:
        headers = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return {}
    return {str(name): str(each) for name, each in headers.items()} if isinstance(headers, dict) else {}


def letter_out(
    *,
    letter_id: int,
    received_at: datetime,
    replay_requested: bool,
    subject: str,
    stream_seq: int | None,
    deliveries: int | None,
    headers: Mapping[str, str],
    error: str,
    size: int,
) -> DeadLetterOut:
    return DeadLetterOut(
        id=letter_id,
        received_at=received_at,
        subject=subject,
        stream_seq=stream_seq,
        deliveries=deliveries,
        event_type=headers.get(EVENT_TYPE),
        ticket_id=headers.get(TICKET_ID),
        error=error,
        size=size,
        replay_requested=replay_requested,
    )
