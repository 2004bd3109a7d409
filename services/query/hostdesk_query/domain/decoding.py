"""Telling apart, in a message from the events stream, an event to apply, an event of a type this service does
not know yet (a newer publisher), and bytes that are no event at all."""

from __future__ import annotations

import json
from dataclasses import dataclass

from hostdesk_contracts.events import EVENT_ADAPTER, EVENT_TYPES, TicketEvent
from pydantic import ValidationError

from hostdesk_query.domain.projection import KnownEvent

KNOWN_TYPES = frozenset(event_type.model_fields["type"].default for event_type in EVENT_TYPES)
_MAX_ERROR_LENGTH = 2_000


@dataclass(frozen=True, slots=True)
class Known:
    event: KnownEvent


@dataclass(frozen=True, slots=True)
class Unknown:
    """An event type added after this service was built. Its envelope, when it has one, still moves the
    ticket's version."""

    type: str
    envelope: TicketEvent | None


@dataclass(frozen=True, slots=True)
class Undecodable:
    error: str


Decoded = Known | Unknown | Undecodable


def decode(data: bytes) -> Decoded:
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
    return Undecodable(f"not a ticket event: {invalid}"[:_MAX_ERROR_LENGTH])
