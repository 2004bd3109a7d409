"""The events stream as the provider's systems see it, read as the NATS admin: what the product recorded.

The relay publishes the log in order, so once an event is on the stream every event committed before it is too:
``published`` waits for one (a fence), after which ``StreamEvents`` holds everything recorded before it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import nats
from hostdesk_contracts.subjects import TICKET_ID, TICKET_VERSION
from nats.js.errors import NotFoundError

from tests.e2e.conftest import Running
from tests.support import eventually


@dataclass
class StreamEvents:
    """Every event on the stream: each ticket's highest version, the subject of each ticket opened, and how many
    events each directory record had."""

    versions: dict[str, int] = field(default_factory=dict)
    opened: dict[str, str] = field(default_factory=dict)
    directory: Counter[str] = field(default_factory=Counter)

    def add(self, headers: dict[str, str], body: bytes) -> None:
        event = json.loads(body)
        if TICKET_ID in headers:
            ticket_id = headers[TICKET_ID]
            self.versions[ticket_id] = max(self.versions.get(ticket_id, 0), int(headers[TICKET_VERSION]))
            if event.get("type") == "ticket.opened.v1":
                self.opened[ticket_id] = str(event.get("subject"))
        elif str(event.get("type", "")).startswith("directory."):
            self.directory[str(event.get("key"))] += 1


async def published(running: Running, ticket_id: str, *, version: int) -> StreamEvents:
    """Wait until the event of ``ticket_id`` at ``version`` is on the stream; then everything committed before it
    is too, and the answer holds it all (read in order, each message once)."""
    events = StreamEvents()
    next_sequence = [1]
    nc = await nats.connect(running.nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = nc.jetstream()

        async def there() -> bool:
            last = (await js.stream_info(running.subjects.events_stream)).state.last_seq
            for sequence in range(next_sequence[0], last + 1):
                try:
                    message = await js.get_msg(running.subjects.events_stream, sequence)
                except NotFoundError:  # a message the stream no longer holds (none is deleted here)
                    continue
                events.add(dict(message.headers or {}), message.data or b"")
            next_sequence[0] = max(next_sequence[0], last + 1)
            return events.versions.get(ticket_id, 0) >= version

        await eventually(there, within=60, every=0.2, what=f"event {ticket_id}:{version} on the events stream")
    finally:
        await nc.close()
    return events
