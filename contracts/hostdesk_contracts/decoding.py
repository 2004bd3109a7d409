"""Reading a message of the events stream: an event this version knows, an event of a type published after
this version was built, or bytes that are no event at all.

Subscribers may use it too: an unknown type is to be passed over (its envelope, when it has one, still moves
its ticket a version on), and only undecodable bytes are an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from hostdesk_contracts.events import EVENT_ADAPTER, EVENT_TYPES, AnyEvent, TicketEvent
from hostdesk_contracts.signing import EventSigner

KNOWN_TYPES = frozenset(event_type.model_fields["type"].default for event_type in EVENT_TYPES)
_MAX_ERROR_LENGTH = 2_000


@dataclass(frozen=True, slots=True)
class Known:
    event: AnyEvent


@dataclass(frozen=True, slots=True)
class Unknown:
    """An event type added after this version was built. Its envelope, when it has one, still tells the
    ticket and the version it moves that ticket to."""

    type: str
    envelope: TicketEvent | None


@dataclass(frozen=True, slots=True)
class Undecodable:
    error: str


Decoded = Known | Unknown | Undecodable


def decode_event(data: bytes) -> Decoded:
    try:
        return Known(EVENT_ADAPTER.validate_json(data))
    except ValidationError as error:
        invalid = error
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        return Undecodable(f"not JSON: {error}"[:_MAX_ERROR_LENGTH])
    event_type = raw.get("type") if isinstance(raw, dict) else None
    if isinstance(event_type, str) and event_type not in KNOWN_TYPES:
        try:
            envelope: TicketEvent | None = TicketEvent.model_validate(raw)
        except ValidationError:
            envelope = None
        return Unknown(event_type, envelope)
    return Undecodable(f"not a ticket event: {_summary(invalid)}"[:_MAX_ERROR_LENGTH])


def decode_signed(signer: EventSigner, subject: str, headers: Mapping[str, str] | None, data: bytes) -> Decoded:
    """``decode_event`` of a message the relay signed; a message it did not sign is ``Undecodable``, whatever
    it holds: consumers set it aside and report it, and it never moves a ticket."""
    if (refusal := signer.refusal(subject, headers, data)) is not None:
        return Undecodable(refusal)
    return decode_event(data)


def _summary(error: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<payload>'}: {e['msg']}" for e in error.errors()[:5]]
    return "; ".join(parts)
