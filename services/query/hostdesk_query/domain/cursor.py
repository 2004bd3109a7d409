"""The opaque cursor of a ticket list: the (updated_at, ticket_id) of the last ticket of the page before."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

_MAX_CURSOR_LENGTH = 200


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class PageCursor:
    updated_at: datetime
    ticket_id: UUID


def encode_cursor(cursor: PageCursor) -> str:
    payload = json.dumps({"u": cursor.updated_at.isoformat(), "t": str(cursor.ticket_id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()


def decode_cursor(text: str) -> PageCursor:
    if len(text) > _MAX_CURSOR_LENGTH:
        raise InvalidCursor("the cursor is longer than any this service makes")
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        updated_at = datetime.fromisoformat(payload["u"])
        ticket_id = UUID(payload["t"])
    except (binascii.Error, ValueError, TypeError, KeyError) as error:
        raise InvalidCursor("the cursor is not one this service made") from error
    if updated_at.tzinfo is None:
        raise InvalidCursor("the cursor is not one this service made")
    return PageCursor(updated_at=updated_at, ticket_id=ticket_id)
