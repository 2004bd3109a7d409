"""Live updates to many consoles: how long a change takes from its commit to each console's live stream.

Consoles are ``GET /v1/stream`` streams of staff who may all see one ticket; once every one is open, internal
notes are posted on it through intake at a steady rate, and each console notes, for every change it is told, the
moment its bytes arrived less the change's ``occurred_at`` (stamped by the tickets service as it handles the
command, before the commit: the figure is an upper bound). The same is measured with one console in the same run:
the ratio is what the fan-out costs, whatever the machine's speed of the day.

Each console reads its stream through h11 under an asyncio protocol, stamping the time as the bytes arrive, so
that a thousand of them in this one process weigh as little as can be on what they measure.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from urllib.parse import urlsplit

import h11
import httpx

from hostdesk_devtools.bench.stats import percentile

OPEN_WITHIN_SECONDS = 60.0
SETTLE_SECONDS = 30.0  # after the last post, for the last changes to arrive


@dataclass(frozen=True)
class FanOut:
    consoles: int
    posts: int
    deliveries: int  # changes received over every console
    expected: int  # posts x consoles
    p50_ms: float
    p99_ms: float
    max_ms: float
    ended: int  # streams that ended (overflow, or the server closed them)


class _Console(asyncio.Protocol):
    """One live stream: the delay of each change it is told."""

    def __init__(self, host: str, token: str, on_change: Callable[[], None] = lambda: None) -> None:
        self._on_change = on_change
        self._http = h11.Connection(h11.CLIENT)
        self._request = h11.Request(
            method="GET",
            target="/v1/stream",
            headers=[("Host", host), ("Authorization", f"Bearer {token}"), ("Accept", "text/event-stream")],
        )
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.delays: list[float] = []
        self.ended = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._http.send(self._request) + self._http.send(h11.EndOfMessage()))

    def data_received(self, data: bytes) -> None:
        arrived = time.time()
        self._http.receive_data(data)
        while True:
            event = self._http.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response) and event.status_code != 200 and not self.opened.done():
                self.opened.set_exception(RuntimeError(f"the live stream answered {event.status_code}"))
            elif isinstance(event, h11.Data):
                self._frames(bytes(event.data), arrived)
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                self.ended = True
                return

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("the live stream closed before it opened"))

    def _frames(self, data: bytes, arrived: float) -> None:
        *frames, self._buffer = (self._buffer + data).split(b"\n\n")
        for frame in frames:
            if not self.opened.done():
                self.opened.set_result(None)  # its first comment
            for line in frame.split(b"\n"):
                if line.startswith(b"data: "):
                    change = json.loads(line[6:])
                    if "occurred_at" in change:
                        self.delays.append(arrived - datetime.fromisoformat(change["occurred_at"]).timestamp())
                        self._on_change()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def _same(console: _Console) -> _Console:
    return console


async def fan_out(
    query_url: str,
    intake_url: str,
    *,
    viewers: list[str],
    author: str,
    ticket_id: str,
    consoles: int,
    posts: int,
    per_second: float,
) -> FanOut:
    """``consoles`` streams, taken in turn by the ``viewers`` (tokens of staff who see ``ticket_id``), told of
    ``posts`` internal notes that ``author`` (a token) posts on it, ``per_second`` of them."""
    address = urlsplit(query_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    loop = asyncio.get_running_loop()
    opened: list[_Console] = []
    expected, received, complete = posts * consoles, [0], asyncio.Event()

    def changed() -> None:
        received[0] += 1
        if received[0] >= expected:
            complete.set()

    try:
        for index in range(consoles):
            console = _Console(f"{host}:{port}", viewers[index % len(viewers)], changed)
            await loop.create_connection(functools.partial(_same, console), host, port)
            opened.append(console)
        async with asyncio.timeout(OPEN_WITHIN_SECONDS):
            await asyncio.gather(*(console.opened for console in opened))
        async with httpx.AsyncClient(
            base_url=intake_url, headers={"Authorization": f"Bearer {author}"}, timeout=30
        ) as intake:
            started = time.monotonic()
            for post in range(posts):
                await asyncio.sleep(max(0.0, started + post / per_second - time.monotonic()))
                body = {"body": f"Live note {post}: the RAID array is rebuilding.", "visibility": "internal"}
                answer = await intake.post(f"/v1/tickets/{ticket_id}/replies", json=body)
                answer.raise_for_status()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(complete.wait(), timeout=SETTLE_SECONDS)
    finally:
        for console in opened:
            console.close()
    delays = sorted(delay for console in opened for delay in console.delays)
    return FanOut(
        consoles=consoles,
        posts=posts,
        deliveries=len(delays),
        expected=expected,
        p50_ms=round(percentile(delays, 50) * 1000, 1) if delays else 0.0,
        p99_ms=round(percentile(delays, 99) * 1000, 1) if delays else 0.0,
        max_ms=round(delays[-1] * 1000, 1) if delays else 0.0,
        ended=sum(1 for console in opened if console.ended),
    )
