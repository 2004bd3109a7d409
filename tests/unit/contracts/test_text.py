"""One rule for the NUL character, which PostgreSQL's text cannot store: refused in a request, replaced in an event."""

from __future__ import annotations

import pytest
from hostdesk_contracts.runtime.text import refuse_unstorable, storable, storable_all, storable_or_none


def test_a_request_text_with_a_nul_is_refused_and_one_without_passes_unchanged() -> None:
    with pytest.raises(ValueError, match="NUL"):
        refuse_unstorable("bad\x00byte")

    assert refuse_unstorable("Still down.") == "Still down."


def test_an_events_text_keeps_a_mark_where_each_nul_was() -> None:
    assert storable("Log:\x00\x00 disk full") == "Log:\ufffd\ufffd disk full"
    assert storable_or_none(None) is None
    assert storable_all(("a\x00b", "ab")) == ("a\ufffdb", "ab")  # two different tags stay two
