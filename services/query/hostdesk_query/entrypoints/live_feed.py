"""The live changes of one replica, read from the events stream (``domain.live``, ``service_layer.live_hub``).

An ordered consumer (ephemeral, no acknowledgements, made again by nats-py after a gap) reads every event, from
the ``buffer`` latest at start-up, so that a replica started since a client's last change can still tell it what
followed. Each batch of events is told once the read model holds their tickets at their versions (or after
``wait`` seconds, with the ticket as it is then): who may see a change is decided on the ticket it made, and a
client told of a change can read it at once. A ticket the read model does not hold by then (an event it
dead-lettered) is told to nobody. Events are told in the stream's order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from uuid import UUID

import nats.errors
from hostdesk_contracts.decoding import Known, decode_signed
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.signing import EventSigner
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from hostdesk_query.adapters.ports import StoreUnavailable, TicketsById, VersionNotices
from hostdesk_query.domain.live import LiveChange
from hostdesk_query.domain.model import TicketRecord
from hostdesk_query.service_layer.live_hub import LiveHub

log = logging.getLogger(__name__)

_BATCH = 256
_IDLE_SECONDS = 1.0  # how long a read waits for the first event of a batch before it looks at ``stopping``
_POLL_SECONDS = 0.05  # a lagging ticket is read again at least this often, notified or not
_STORE_RETRY_SECONDS = 1.0


class LiveFeed:
    def __init__(
        self,
        js: JetStreamContext,
        *,
        stream: str,
        subject: str,
        signer: EventSigner,
        tickets: TicketsById,
        notices: VersionNotices,
        hub: LiveHub,
        buffer: int,
        wait: float,
        stopping: asyncio.Event,
    ) -> None:
        self._js = js
        self._stream = stream
        self._subject = subject
        self._signer = signer
        self._tickets = tickets
        self._notices = notices
        self._hub = hub
        self._buffer = buffer
        self._wait = wait
        self._stopping = stopping

    async def run(self) -> None:
        info = await self._js.stream_info(self._stream)
        start = max(info.state.first_seq, info.state.last_seq - self._buffer + 1, 1)
        self._hub.started_at(start)
        subscription = await self._js.subscribe(
            self._subject,
            stream=self._stream,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start),
        )
        log.info("live updates read %s from sequence %d", self._subject, start)
        try:
            while not self._stopping.is_set():
                batch = await self._next_batch(subscription)
                if batch:
                    await self._tell(batch)
        finally:
            with contextlib.suppress(nats.errors.Error):
                await subscription.unsubscribe()

    async def _next_batch(self, subscription: JetStreamContext.PushSubscription) -> list[Msg]:
        try:
            first = await subscription.next_msg(timeout=_IDLE_SECONDS)
        except nats.errors.TimeoutError:
            return []
        batch = [first]
        while len(batch) < _BATCH and subscription.pending_msgs > 0:
            batch.append(await subscription.next_msg(timeout=_IDLE_SECONDS))
        return batch

    async def _tell(self, batch: Sequence[Msg]) -> None:
        read: list[tuple[int, TicketEvent | None]] = []
        for message in batch:
            decoded = decode_signed(self._signer, message.subject, message.headers, message.data)
            read.append((message.metadata.sequence.stream, decoded.event if isinstance(decoded, Known) else None))
        events = [event for _, event in read if event is not None]
        tickets = await self._applied(events)
        for seq, event in read:
            ticket = None if event is None else tickets.get(event.ticket_id)
            if event is None or ticket is None:
                self._hub.passed(seq)
            else:
                self._hub.publish(LiveChange.of(seq, event, ticket))

    async def _applied(self, events: Sequence[TicketEvent]) -> dict[UUID, TicketRecord]:
        """The tickets of ``events`` once the read model holds each at the version of its last event, or as they
        are when ``wait`` is up."""
        wanted: dict[UUID, int] = {}
        for event in events:
            wanted[event.ticket_id] = max(wanted.get(event.ticket_id, 0), event.version)
        if not wanted:
            return {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        found: dict[UUID, TicketRecord] = {}
        lagging = list(wanted)
        while True:
            found.update(await self._read(lagging))
            lagging = [i for i in lagging if i not in found or found[i].version < wanted[i]]
            remaining = deadline - loop.time()
            if not lagging or remaining <= 0 or self._stopping.is_set():
                return found
            with contextlib.ExitStack() as watching:
                changed = [watching.enter_context(self._notices.watch(ticket_id)) for ticket_id in lagging]
                waits = [asyncio.ensure_future(event.wait()) for event in changed]
                try:
                    await asyncio.wait(waits, timeout=min(remaining, _POLL_SECONDS), return_when="FIRST_COMPLETED")
                finally:
                    for wait in waits:
                        wait.cancel()

    async def _read(self, ticket_ids: list[UUID]) -> dict[UUID, TicketRecord]:
        while True:
            try:
                return await self._tickets.tickets_by_id(ticket_ids)
            except StoreUnavailable as error:
                if self._stopping.is_set():
                    return {}
                log.warning("live updates wait for the read model: %s", error)
                await asyncio.sleep(_STORE_RETRY_SECONDS)
