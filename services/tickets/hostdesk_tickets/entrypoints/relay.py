"""The relay: every stored event, in log order, to the ticket events stream, exactly once.

- One leader among the replicas, elected by a PostgreSQL advisory lock held on a dedicated connection.
  The others wait; when the leader's connection goes, its lock goes and a standby takes over.
- The stream is the relay's bookmark: each message carries its log position (``Es-Position``), and a new
  leader resumes after the position of the stream's last message the relay signed (``hostdesk_contracts.
  signing``). No separate offset can fall behind, and nobody else's message can move it: a message on the
  stream without the relay's signature is passed over and reported, never trusted.
- Each publish carries ``Nats-Msg-Id`` = the event id (JetStream drops a repeat) and expects the stream's
  last sequence to be the one this leader last saw, so a deposed leader that still runs cannot interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
from eventsourcing.persistence import Notification
from hostdesk_contracts.runtime.clock import pause
from hostdesk_contracts.signing import EventSigner
from hostdesk_contracts.subjects import ES_POSITION, Subjects, event_headers
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import APIError, NotFoundError

from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.service_layer.application import TicketsApplication

log = logging.getLogger(__name__)

WRONG_LAST_SEQUENCE = 10071
PUBLISH_TIMEOUT = 10.0  # seconds for a whole batch to be acknowledged before the relay starts over
EXPECTED_LAST_SEQUENCE = "Nats-Expected-Last-Sequence"
# Foreign messages the relay passes over, at most, looking back for its own last one; more, and it stops leading
# (and says so) rather than read the stream back for ever. NATS permissions keep the number at none.
MAX_FOREIGN_AT_TAIL = 10_000


class LostLeadership(Exception):
    pass


class StreamMoved(Exception):
    """The stream's last sequence is not the one this leader expected: another message came in between."""


class Relay:
    def __init__(
        self,
        *,
        app: TicketsApplication,
        js: JetStreamContext,
        subjects: Subjects,
        database_url: str,
        lock_key: int,
        signer: EventSigner,
        batch: int = 500,
        idle_poll_seconds: float = 0.2,
    ) -> None:
        self.app = app
        self.js = js
        self.subjects = subjects
        self.database_url = database_url
        self.lock_key = lock_key
        self.signer = signer
        self.batch = batch
        self.idle_poll_seconds = idle_poll_seconds
        self.stopping = asyncio.Event()
        self.is_leader = False
        self.position = 0  # the log position of the last event known to be on the stream

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        while not self.stopping.is_set():
            try:
                await self._campaign()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, NatsError, LostLeadership) as error:
                log.warning("relay paused: %s", error)
            finally:
                self.is_leader = False
            await pause(self.stopping, 1.0)

    async def _campaign(self) -> None:
        connection = await asyncpg.connect(self.database_url, timeout=5)
        try:
            while not self.stopping.is_set():
                if await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                    self.is_leader = True
                    log.info("relay leading")
                    await self._lead(connection)
                    return
                await pause(self.stopping, 1.0)  # a standby: another replica leads
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=2)

    async def _lead(self, connection: asyncpg.Connection) -> None:
        wake = asyncio.Event()

        def on_notify(*_: Any) -> None:
            wake.set()

        await connection.add_listener(self.app.recorder.channel_name, on_notify)  # type: ignore[attr-defined]
        self.position, last_sequence = await self._resume_point()
        log.info("relay resumes after log position %d (stream sequence %d)", self.position, last_sequence)
        while not self.stopping.is_set():
            wake.clear()
            notifications = await asyncio.to_thread(
                self.app.recorder.select_notifications,
                start=self.position,
                limit=self.batch,
                inclusive_of_start=False,
            )
            if notifications:
                try:
                    last_sequence = await self._publish(notifications, last_sequence)
                except StreamMoved:
                    # Still the leader (the lock's connection answers): a message of someone else's came in
                    # between. Resume after the relay's own last message at once, with the stream's true tail.
                    await connection.fetchval("SELECT 1")
                    self.position, last_sequence = await self._resume_point()
                continue
            if connection.is_closed():
                raise LostLeadership("the connection holding the leader lock closed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=self.idle_poll_seconds)

    async def _resume_point(self) -> tuple[int, int]:
        """The log position of the stream's last message the relay signed, and the stream's last sequence
        (whatever message holds it: the next publish is fenced on it)."""
        stream = self.subjects.events_stream
        try:
            last = await self.js.get_last_msg(stream, self.subjects.all_events)
        except NotFoundError:
            return 0, 0
        tail: int = last.seq or 0
        message: RawStreamMsg | None = last
        sequence = tail
        foreign = 0
        while message is not None:
            refusal = self.signer.refusal(message.subject or "", message.headers, message.data or b"")
            if refusal is None:
                if foreign:
                    log.warning("relay passed over %d message(s) at the stream's tail it did not sign", foreign)
                return int((message.headers or {})[ES_POSITION]), tail
            foreign += 1
            log.warning("events stream seq %d is not the relay's, passed over: %s", sequence, refusal)
            if foreign > MAX_FOREIGN_AT_TAIL:
                raise LostLeadership(f"over {MAX_FOREIGN_AT_TAIL} messages at the stream's tail are not the relay's")
            message = None
            while message is None and sequence > 1:
                sequence -= 1
                with contextlib.suppress(NotFoundError):  # a sequence removed from the stream
                    message = await self.js.get_msg(stream, sequence)
        if foreign:
            log.warning("relay found none of its own messages among %d on the stream", foreign)
        return 0, tail

    async def _publish(self, notifications: Sequence[Notification], last_sequence: int) -> int:
        """Publish a batch with every publish in flight at once, each fenced on the sequence before it."""
        pending = []
        for offset, notification in enumerate(notifications):
            event = to_public(self.app.mapper.to_domain_event(notification))
            subject = self.subjects.event(event.tenant, event)
            body = event.model_dump_json().encode()
            headers = self.signer.signed(subject, event_headers(event, position=notification.id), body)
            headers[EXPECTED_LAST_SEQUENCE] = str(last_sequence + offset)
            pending.append(await self.js.publish_async(subject, body, headers=headers))
        acks = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout=PUBLISH_TIMEOUT)
        for notification, ack in zip(notifications, acks, strict=True):  # the bookmark moves over successes only
            if isinstance(ack, APIError) and ack.err_code == WRONG_LAST_SEQUENCE:
                raise StreamMoved("the stream moved under this relay; resuming from the stream") from ack
            if isinstance(ack, BaseException):
                raise ack
            if ack.duplicate:
                raise LostLeadership(f"event at log position {notification.id} was on the stream already")
            last_sequence = ack.seq
            self.position = notification.id
        return last_sequence
