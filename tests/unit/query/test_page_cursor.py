import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hostdesk_query.domain.cursor import InvalidCursor, PageCursor, decode_cursor, encode_cursor
from hostdesk_query.domain.listing import ListOrder

UPDATED = ListOrder.UPDATED


@pytest.mark.parametrize(
    "cursor",
    [
        PageCursor(UPDATED, (datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC), uuid.uuid4())),
        PageCursor(ListOrder.CREATED, (datetime(2026, 3, 1, tzinfo=UTC), uuid.uuid4())),
        PageCursor(ListOrder.PRIORITY, (0, datetime(2026, 3, 1, tzinfo=UTC), uuid.uuid4())),
        PageCursor(ListOrder.PRIORITY, (3, datetime(2026, 3, 1, tzinfo=UTC), uuid.uuid4())),
    ],
)
def test_a_cursor_decodes_to_the_position_it_encodes(cursor: PageCursor) -> None:
    assert decode_cursor(encode_cursor(cursor), order=cursor.order) == cursor


def test_a_cursor_of_another_order_is_refused() -> None:
    text = encode_cursor(PageCursor(UPDATED, (datetime(2026, 3, 1, tzinfo=UTC), uuid.uuid4())))

    with pytest.raises(InvalidCursor, match="'created' order"):
        decode_cursor(text, order=ListOrder.CREATED)


def test_a_cursor_is_safe_in_a_url() -> None:
    cursor = PageCursor(UPDATED, (datetime(2026, 3, 1, tzinfo=UTC), uuid.uuid4()))

    text = encode_cursor(cursor)

    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _key(*values: object) -> str:
    return _b64({"o": "updated", "k": list(values)})


def _priority(*values: object) -> str:
    return _b64({"o": "priority", "k": list(values)})


_ID = str(uuid.UUID(int=1))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a cursor",
        "%%%",
        _b64(["2026-03-01T00:00:00+00:00"]),
        _b64({"u": "2026-03-01T00:00:00+00:00", "t": _ID}),  # the cursors of an earlier release
        _b64({"o": "updated", "k": "2026-03-01T00:00:00+00:00"}),
        _key("2026-03-01T00:00:00+00:00"),
        _key("2026-03-01T00:00:00+00:00", _ID, 1),
        _key("yesterday", _ID),
        _key("2026-03-01T00:00:00", _ID),
        _key("2026-03-01T00:00:00+00:00", "not-a-uuid"),
        _key("0001-01-01T00:00:00+05:00", _ID),  # before the first moment in UTC
        _key("9999-12-31T23:59:59-05:00", _ID),  # after the last
        _key(20260301, _ID),
        _key("2026-03-01T00:00:00+00:00", 1),
        _priority(4, "2026-03-01T00:00:00+00:00", _ID),
        _priority(True, "2026-03-01T00:00:00+00:00", _ID),
        _priority("0", "2026-03-01T00:00:00+00:00", _ID),
        _priority(0.0, "2026-03-01T00:00:00+00:00", _ID),
        "A" * 1_000,
    ],
)
def test_a_cursor_this_service_did_not_make_is_refused(text: str) -> None:
    for order in ListOrder:
        with pytest.raises(InvalidCursor):
            decode_cursor(text, order=order)


def test_a_cursor_decodes_to_its_moment_in_utc() -> None:
    ticket_id = uuid.uuid4()

    cursor = decode_cursor(_key("0001-01-01T05:00:00+05:00", str(ticket_id)), order=UPDATED)

    assert cursor == PageCursor(UPDATED, (datetime(1, 1, 1, tzinfo=UTC), ticket_id))
    moment = cursor.key[0]
    assert isinstance(moment, datetime)
    assert moment.utcoffset() == timedelta(0)
