"""The opaque cursors of the API: a ticket list's (its order and the sort key of the last ticket of the page
before, ``domain.listing``) and a timeline's (the ``occurred_at`` and position of the last entry of the page before).

A cursor comes back from the caller, so it is anything the caller wants it to be: decoding refuses every cursor
this service could not have made, and in particular every moment that is no moment in UTC (year 1 at +05:00 is
before the first one Python can hold) and every position past what any timeline reaches, so that nothing a caller
makes up reaches the database as a value it cannot take.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from hostdesk_query.domain.listing import ORDERINGS, PRIORITY_ORDER, ListOrder, SortKey

_MAX_CURSOR_LENGTH = 200
# More entries than any timeline holds, and far from the limits of PostgreSQL's bigint.
MAX_POSITION = 2**31 - 1


class InvalidCursor(ValueError):
    pass


_FOREIGN = "the cursor is not one this service made"


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Where a page of a list read in ``order`` ended: its last ticket's sort key (``domain.listing.sort_key``)."""

    order: ListOrder
    key: SortKey


@dataclass(frozen=True, slots=True)
class TimelineCursor:
    """Where a page of a timeline ended: its last entry's time and position (``domain.paging``)."""

    occurred_at: datetime
    position: int


def encode_cursor(cursor: PageCursor) -> str:
    values = [value.isoformat() if isinstance(value, datetime) else value for value in cursor.key]
    return _encoded(
        {"o": cursor.order.value, "k": [str(value) if isinstance(value, UUID) else value for value in values]}
    )


def decode_cursor(text: str, *, order: ListOrder) -> PageCursor:
    """The cursor ``text``, which must be one of a list read in ``order``."""
    payload = _payload(text)
    if payload.get("o") != order.value:
        raise InvalidCursor(f"the cursor is not one of a list in the {order.value!r} order")
    given = payload.get("k")
    columns = ORDERINGS[order].columns
    if not isinstance(given, list) or len(given) != len(columns):
        raise InvalidCursor(_FOREIGN)
    return PageCursor(
        order=order, key=tuple(_value(column, value) for column, value in zip(columns, given, strict=True))
    )


_PRIORITY_ORDERS = frozenset(PRIORITY_ORDER.values())


def _value(column: str, value: object) -> datetime | UUID | int:
    if column == "ticket_id":
        if not isinstance(value, str):
            raise InvalidCursor(_FOREIGN)
        try:
            return UUID(value)
        except ValueError as error:
            raise InvalidCursor(_FOREIGN) from error
    if column == "priority_order":
        if type(value) is not int or value not in _PRIORITY_ORDERS:
            raise InvalidCursor(_FOREIGN)
        return value
    return _moment(value)


def encode_timeline_cursor(cursor: TimelineCursor) -> str:
    return _encoded({"o": cursor.occurred_at.isoformat(), "p": cursor.position})


def decode_timeline_cursor(text: str) -> TimelineCursor:
    payload = _payload(text)
    position = payload.get("p")
    if type(position) is not int or not 1 <= position <= MAX_POSITION:  # not a bool, not a float
        raise InvalidCursor(_FOREIGN)
    return TimelineCursor(occurred_at=_moment(payload.get("o")), position=position)


def _encoded(payload: dict[str, object]) -> str:
    text = json.dumps(payload, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _payload(text: str) -> dict[str, object]:
    if len(text) > _MAX_CURSOR_LENGTH:
        raise InvalidCursor("the cursor is longer than any this service makes")
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidCursor(_FOREIGN) from error
    if not isinstance(payload, dict):
        raise InvalidCursor(_FOREIGN)
    return payload


def _moment(value: object) -> datetime:
    """``value`` as an aware moment in UTC, as the database is given it."""
    if not isinstance(value, str):
        raise InvalidCursor(_FOREIGN)
    try:
        moment = datetime.fromisoformat(value)
        in_utc = moment.astimezone(UTC)  # OverflowError: out of range once in UTC
    except (ValueError, OverflowError) as error:
        raise InvalidCursor(_FOREIGN) from error
    if moment.tzinfo is None:  # astimezone took it for the machine's local time
        raise InvalidCursor(_FOREIGN)
    return in_utc
