"""The fan-out bench's console: what it reads off a live stream's bytes, however they are cut."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hostdesk_devtools.bench.fan_out import _Console


class _Transport:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        pass


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _stream(*frames: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    return head + b"".join(_chunk(frame) for frame in frames)


def _change(occurred_at: datetime) -> bytes:
    data = json.dumps({"ticket_id": "t", "version": 3, "change": "noted", "occurred_at": occurred_at.isoformat()})
    return f"event: ticket\ndata: {data}\nid: 7\n\n".encode()


async def _console() -> tuple[_Console, _Transport]:
    console, transport = _Console("query:80", "token"), _Transport()
    console.connection_made(transport)  # type: ignore[arg-type]
    return console, transport


async def test_each_change_is_timed_from_its_commit_however_the_bytes_are_cut() -> None:
    console, transport = await _console()
    assert transport.written.startswith(b"GET /v1/stream HTTP/1.1\r\n")
    assert b"Bearer token" in transport.written
    earlier = datetime.now(UTC) - timedelta(seconds=2)
    data = _stream(b": hostdesk live updates\nretry: 3000\n\n", _change(earlier), b": ping\n\n", _change(earlier))
    for start in range(0, len(data), 7):  # in pieces that cut lines, chunk sizes and frames
        console.data_received(data[start : start + 7])
    assert console.opened.done()
    assert console.opened.exception() is None
    assert len(console.delays) == 2
    assert all(1.5 < delay < 60 for delay in console.delays)
    assert not console.ended


async def test_a_refused_stream_fails_its_opening() -> None:
    console, _ = await _console()
    console.data_received(b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 2\r\n\r\n{}")
    with pytest.raises(RuntimeError, match="429"):
        console.opened.result()
    assert console.ended


async def test_a_stream_closed_before_it_opened_fails_its_opening() -> None:
    console, _ = await _console()
    console.connection_lost(None)
    with pytest.raises(ConnectionError):
        console.opened.result()
