import base64
import json
import uuid
from datetime import UTC, datetime

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
        "A" * 1_000,
    ],
)
def test_a_cursor_this_service_did_not_make_is_refused(text: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(text)
