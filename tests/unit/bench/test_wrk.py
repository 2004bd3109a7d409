"""What the load generator is given and what it leaves behind: the Lua data file, its records and summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostdesk_devtools.bench.stats import Sample
from hostdesk_devtools.bench.wrk import Request, lua_requests, lua_string, parse_summary, read_run


def test_a_lua_string_escapes_quotes_and_backslashes() -> None:
    assert lua_string('{"body": "a\\\\b"}') == '"{\\"body\\": \\"a\\\\\\\\b\\"}"'


def test_a_lua_string_refuses_what_luajit_could_not_read() -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        lua_string("caf\u00e9\n")


def test_the_data_file_lists_every_request() -> None:
    requests = [Request("/v1/tickets", "t1", '{"subject":"x"}'), Request("/v1/tickets/a/replies", "t2", "{}")]

    text = lua_requests(requests)

    assert text.startswith("return { requests = {\n")
    assert '  {path="/v1/tickets", token="t1", body="{\\"subject\\":\\"x\\"}"},' in text
    assert '  {path="/v1/tickets/a/replies", token="t2", body="{}"},' in text


def test_the_summary_is_read_as_integers() -> None:
    assert parse_summary("duration_us=5100772\nrequests=2491\ntimeouts=0\n") == {
        "duration_us": 5100772,
        "requests": 2491,
        "timeouts": 0,
    }


def test_a_run_folder_gives_every_threads_samples_in_sending_order_and_the_ticket_ids(tmp_path: Path) -> None:
    (tmp_path / "thread-0.txt").write_text("3000000 1000 201\n1000000 2000 201", encoding="ascii")
    (tmp_path / "thread-1.txt").write_text("2000000 3000 503", encoding="ascii")
    (tmp_path / "ids-0.txt").write_text("a\nb", encoding="ascii")
    (tmp_path / "ids-1.txt").write_text("", encoding="ascii")
    (tmp_path / "summary.txt").write_text("duration_us=3000000\nrequests=3\n", encoding="ascii")

    samples, ticket_ids, summary = read_run(tmp_path)

    assert samples == [Sample(1.0, 0.002, 201), Sample(2.0, 0.003, 503), Sample(3.0, 0.001, 201)]
    assert ticket_ids == ["a", "b"]
    assert summary["requests"] == 3
