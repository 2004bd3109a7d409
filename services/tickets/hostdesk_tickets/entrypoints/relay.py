"""The relay: every stored event, in log order, to the events stream, exactly once: the tickets' events and the
directory's (``<root>.events.<tenant>.directory.<event>``), in the one order of the log they share.

- One leader among the replicas, elected by a PostgreSQL advisory lock held on a dedicated connection.
  The others wait; when the leader's connection goes, its lock goes and a standby takes over.
- The stream is the relay's bookmark: each message carries its log position (``Es-Position``), and a new
  leader resumes after the position of the stream's last message the relay signed (``hostdesk_contracts.
  signing``). No separate offset can fall behind, and nobody else's message can move it: a message on the
  stream without the relay's signature is passed over and reported, never trusted.
- Each publish carries ``Nats-Msg-Id`` = the event id (JetStream drops a repeat) and expects the stream's
  last sequence to be the one this leader last saw, so a deposed leader that still runs cannot interleave. An
  event whose id a message of someone else's took first goes out under an id only the relay can make.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
from eventsourcing.persistence import Notification
from hostdesk_contracts.directory import DirectoryEvent
from hostdesk_contracts.runtime.clock import pause
from hostdesk_contracts.signing import EventSigner
from hostdesk_contracts.subjects import ES_POSITION, MSG_ID, Subjects, directory_event_headers, event_headers
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from hostdesk_tickets.adapters.public_events import to_published
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
        self.position = 0  # the log position of the last event known to be on the stream, in order
        self._renamed: dict[int, str] = {}  # log position -> the private id its event goes out under

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
                    # between. Go on at once after the last event known in order on the stream, fenced on the
                    # stream's true tail; an event of the batch that went out after the gap is found again as
                    # the relay's own (a repeat) and counted, not sent twice.
                    await connection.fetchval("SELECT 1")
                    last_sequence = await self._tail()
                continue
            if connection.is_closed():
                raise LostLeadership("the connection holding the leader lock closed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=self.idle_poll_seconds)

    async def _tail(self) -> int:
        try:
            last = await self.js.get_last_msg(self.subjects.events_stream, self.subjects.all_events)
        except NotFoundError:
            return 0
        return last.seq or 0

    async def _resume_point(self) -> tuple[int, int]:
        """Where a new leader starts: after the last log position that the stream holds, in order, signed by the
        relay; and the stream's last sequence (whatever message holds it: the next publish is fenced on it).

        Messages the relay did not sign are passed over and reported. The relay's own last ``batch`` messages are
        checked for a hole (an event that a message of someone else's had pushed out of order): the relay then
        starts before it, and what follows it is found again as a repeat."""
        stream = self.subjects.events_stream
        tail = await self._tail()
        positions: list[int] = []
        foreign = 0
        sequence = tail
        while sequence >= 1 and len(positions) < self.batch:
            try:
                message = await self.js.get_msg(stream, sequence)
            except NotFoundError:  # a sequence removed from the stream
                sequence -= 1
                continue
            if (refusal := self.signer.refusal(message.subject or "", message.headers, message.data or b"")) is None:
                positions.append(int((message.headers or {})[ES_POSITION]))
            else:
                foreign += 1
                log.warning("events stream seq %d is not the relay's, passed over: %s", sequence, refusal)
                if foreign > MAX_FOREIGN_AT_TAIL:
                    raise LostLeadership(
                        f"over {MAX_FOREIGN_AT_TAIL} messages near the stream's tail are not the relay's"
                    )
            sequence -= 1
        if not positions:
            return 0, tail
        floor, top = min(positions), max(positions)
        logged = await asyncio.to_thread(
            self.app.recorder.select_notifications, start=floor, limit=top - floor + 1, stop=top
        )
        seen = set(positions)
        holes = [notification.id for notification in logged if notification.id not in seen]  # the log's own gaps
        return (holes[0] - 1 if holes else top), tail

    async def _publish(self, notifications: Sequence[Notification], last_sequence: int) -> int:
        """Publish a batch with every publish in flight at once, each fenced on the sequence before it. The
        bookmark moves over the events known on the stream in order, and stops at the first that is not."""
        pending = []
        for offset, notification in enumerate(notifications):
            subject, body, headers = self._message(notification)
            headers[EXPECTED_LAST_SEQUENCE] = str(last_sequence + offset)
            pending.append(await self.js.publish_async(subject, body, headers=headers))
        acks = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout=PUBLISH_TIMEOUT)
        for notification, ack in zip(notifications, acks, strict=True):
            if isinstance(ack, APIError) and ack.err_code == WRONG_LAST_SEQUENCE:
                raise StreamMoved("the stream moved under this relay; going on from its tail")
            if isinstance(ack, BaseException):
                raise ack
            if ack.duplicate:
                # JetStream dropped it as a repeat of the message at ack.seq, and sent nothing else in its place:
                # the rest of the batch was fenced one sequence too far.
                await self._repeated(notification, ack.seq)
                raise StreamMoved("an event of the batch was on the stream already; going on from its tail")
            last_sequence = ack.seq
            self.position = notification.id
            self._renamed.pop(notification.id, None)
        return last_sequence

    async def _repeated(self, notification: Notification, stored_seq: int) -> None:
        """The event at ``notification`` was dropped as a repeat of the message at ``stored_seq``. The relay's
        own: the event is on the stream (sent out of order after a message of someone else's, or by a leader
        before this one), so it counts as published. Someone else's, that took the event's id (predictable:
        ticket and version) to have the real event dropped: the event goes out again under an id only the relay
        can make."""
        stored = await self.js.get_msg(self.subjects.events_stream, stored_seq)
        if self.signer.verify(stored.subject or "", stored.headers, stored.data or b""):
            if int((stored.headers or {})[ES_POSITION]) != notification.id:
                raise LostLeadership(f"the stream holds another event under the id of log position {notification.id}")
            self.position = notification.id
            return
        self._renamed[notification.id] = f"relay:{notification.id}:{self.signer.private_id(str(notification.id))}"
        log.warning(
            "events stream seq %d, not the relay's, took the id of the event at log position %d: sending it as %s",
            stored_seq,
            notification.id,
            self._renamed[notification.id],
        )

    def _message(self, notification: Notification) -> tuple[str, bytes, dict[str, str]]:
        event = to_published(self.app.mapper.to_domain_event(notification))
        if isinstance(event, DirectoryEvent):
            subject = self.subjects.directory_event(event.tenant, event)
            headers = directory_event_headers(event, position=notification.id)
        else:
            subject = self.subjects.event(event.tenant, event)
            headers = event_headers(event, position=notification.id)
        body = event.model_dump_json().encode()
        if (renamed := self._renamed.get(notification.id)) is not None:
            headers[MSG_ID] = renamed
        return subject, body, self.signer.signed(subject, headers, body)
