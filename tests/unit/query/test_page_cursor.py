import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hostdesk_query.domain.cursor import InvalidCursor, PageCursor, decode_cursor, encode_cursor


def test_a_cursor_decodes_to_the_position_it_encodes() -> None:
    cursor = PageCursor(updated_at=datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC), ticket_id=uuid.uuid4())

    assert decode_cursor(encode_cursor(cursor)) == cursor


def test_a_cursor_is_safe_in_a_url() -> None:
    cursor = PageCursor(updated_at=datetime(2026, 3, 1, tzinfo=UTC), ticket_id=uuid.uuid4())

    text = encode_cursor(cursor)

    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a cursor",
        "%%%",
        _b64(["2026-03-01T00:00:00+00:00"]),
        _b64({"u": "2026-03-01T00:00:00+00:00"}),
        _b64({"u": "yesterday", "t": str(uuid.UUID(int=1))}),
        _b64({"u": "2026-03-01T00:00:00", "t": str(uuid.UUID(int=1))}),
        _b64({"u": "2026-03-01T00:00:00+00:00", "t": "not-a-uuid"}),
        _b64({"u": "0001-01-01T00:00:00+05:00", "t": str(uuid.UUID(int=1))}),  # before the first moment in UTC
        _b64({"u": "9999-12-31T23:59:59-05:00", "t": str(uuid.UUID(int=1))}),  # after the last
        _b64({"u": 20260301, "t": str(uuid.UUID(int=1))}),
        _b64({"u": "2026-03-01T00:00:00+00:00", "t": 1}),
        "A" * 1_000,
    ],
)
def test_a_cursor_this_service_did_not_make_is_refused(text: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(text)


def test_a_cursor_decodes_to_its_moment_in_utc() -> None:
    ticket_id = uuid.uuid4()

    cursor = decode_cursor(_b64({"u": "0001-01-01T05:00:00+05:00", "t": str(ticket_id)}))

    assert cursor == PageCursor(updated_at=datetime(1, 1, 1, tzinfo=UTC), ticket_id=ticket_id)
    assert cursor.updated_at.utcoffset() == timedelta(0)
