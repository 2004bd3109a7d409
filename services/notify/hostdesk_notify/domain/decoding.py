"""Reading an event off the stream: a known event, a type from a newer publisher, or garbage."""

from __future__ import annotations

from dataclasses import dataclass

from hostdesk_contracts.events import EVENT_ADAPTER, AnyEvent
from pydantic import ValidationError

# Every event type of the contracts this version is built with: each one moves its ticket a version on, so
# notify reads them all, even those that mail nobody.
KnownEvent = AnyEvent


@dataclass(frozen=True)
class UnknownType:
    """A well-formed event of a type this version does not know: acknowledged and passed over."""


@dataclass(frozen=True)
class Unreadable:
    """Bytes that are no event at all: dead-lettered, never retried."""

    reason: str


def decode_event(data: bytes) -> KnownEvent | UnknownType | Unreadable:
    try:
        return EVENT_ADAPTER.validate_json(data)
    except ValidationError as error:
        if any(e["type"] == "union_tag_invalid" for e in error.errors()):
            return UnknownType()
        return Unreadable(reason=_summary(error))


def _summary(error: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<payload>'}: {e['msg']}" for e in error.errors()[:5]]
    return "; ".join(parts)
