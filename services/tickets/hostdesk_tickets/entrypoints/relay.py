"""The relay: every stored event, in log order, to the ticket events stream, exactly once.

- One leader among the replicas, elected by a PostgreSQL advisory lock held on a dedicated connection.
  The others wait; when the leader's connection goes, its lock goes and a standby takes over.
- The stream is the relay's bookmark: each message carries its log position (``Es-Position``), and a new
  leader resumes after the position of the stream's last message. No separate offset can fall behind.
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
from hostdesk_contracts.subjects import ES_POSITION, Subjects, event_headers
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.service_layer.application import TicketsApplication

log = logging.getLogger(__name__)

WRONG_LAST_SEQUENCE = 10071
PUBLISH_TIMEOUT = 10.0  # seconds for a whole batch to be acknowledged before the relay starts over
EXPECTED_LAST_SEQUENCE = "Nats-Expected-Last-Sequence"


class LostLeadership(Exception):
    pass


class Relay:
    def __init__(
        self,
        *,
        app: TicketsApplication,
        js: JetStreamContext,
        subjects: Subjects,
        database_url: str,
        lock_key: int,
        batch: int = 500,
        idle_poll_seconds: float = 0.2,
    ) -> None:
        self.app = app
        self.js = js
        self.subjects = subjects
        self.database_url = database_url
        self.lock_key = lock_key
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
                last_sequence = await self._publish(notifications, last_sequence)
                continue
            if connection.is_closed():
                raise LostLeadership("the connection holding the leader lock closed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=self.idle_poll_seconds)

    async def _resume_point(self) -> tuple[int, int]:
        try:
            last = await self.js.get_last_msg(self.subjects.events_stream, self.subjects.all_events)
        except NotFoundError:
            return 0, 0
        position = int((last.headers or {}).get(ES_POSITION, "0"))
        sequence: int = last.seq or 0
        return position, sequence

    async def _publish(self, notifications: Sequence[Notification], last_sequence: int) -> int:
        """Publish a batch with every publish in flight at once, each fenced on the sequence before it."""
        pending = []
        for offset, notification in enumerate(notifications):
            event = to_public(self.app.mapper.to_domain_event(notification))
            headers = event_headers(event, position=notification.id)
            headers[EXPECTED_LAST_SEQUENCE] = str(last_sequence + offset)
            subject = self.subjects.event(event.tenant, event)
            pending.append(await self.js.publish_async(subject, event.model_dump_json().encode(), headers=headers))
        acks = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout=PUBLISH_TIMEOUT)
        for notification, ack in zip(notifications, acks, strict=True):  # the bookmark moves over successes only
            if isinstance(ack, APIError) and ack.err_code == WRONG_LAST_SEQUENCE:
                raise LostLeadership("the stream moved under this relay; resuming from the stream") from ack
            if isinstance(ack, BaseException):
                raise ack
            if ack.duplicate:
                raise LostLeadership(f"event at log position {notification.id} was on the stream already")
            last_sequence = ack.seq
            self.position = notification.id
        return last_sequence
