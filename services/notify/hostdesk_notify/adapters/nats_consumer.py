"""The durable pull consumer ``notify`` on the ticket events stream.

Each message is handled in one PostgreSQL transaction and acknowledged only after its commit. The messages of
a fetched batch are handled ticket by ticket: one ticket's in stream order, different tickets' at the same time
(each its own connection), so a burst of new tickets does not wait on one round trip after another. Garbage is
dead-lettered and terminated so that it never blocks the events behind it; an event of a type this version
does not know is acknowledged and passed over; an event that comes before an earlier one of its ticket (a
reply before the ticket's opening) comes back after a short delay. A NATS or PostgreSQL outage pauses the
loop; it never ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import nats.errors
from hostdesk_contracts.runtime.nats import fetch_batch
from hostdesk_contracts.subjects import TICKET_ID, Subjects
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from hostdesk_notify.adapters.ports import CONSUMER, DeadLetter, NotifyStore
from hostdesk_notify.domain.decoding import KnownEvent, UnknownType, Unreadable, decode_event
from hostdesk_notify.service_layer.handlers import Handled, Outcome

log = logging.getLogger(__name__)

# What a lost or busy PostgreSQL looks like: the message is tried again later. Any other database error means
# PostgreSQL refuses this message's data, which no retry mends: it is dead-lettered at once.
TRANSIENT_DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.TransactionRollbackError,  # deadlock or serialization failure: the same message may pass next time
)


@dataclass(frozen=True)
class ConsumerSettings:
    batch: int = 20
    fetch_timeout: float = 1.0
    max_deliver: int = 10
    # How long a delivered message may stay unacknowledged (a crash) before it comes again. No ``backoff`` list
    # on purpose: the server adds it to the delay of every ``nak(delay=...)`` (seen on 2.9 and 2.15), which
    # stretched a poison message's ten deliveries over half an hour.
    ack_wait: float = 30.0
    unseen_ticket_delay: float = 1.0
    transient_delay: float = 2.0


EventHandler = Callable[[KnownEvent], Awaitable[Handled]]


def _by_ticket(messages: list[Msg]) -> list[list[Msg]]:
    """The messages grouped by their ticket (the ``Ticket-Id`` header), each group in stream order. A message
    without the header (not from the tickets service) is a group of its own."""
    groups: dict[str, list[Msg]] = {}
    for message in messages:
        ticket = (message.headers or {}).get(TICKET_ID) or f"message:{id(message)}"
        groups.setdefault(ticket, []).append(message)
    return list(groups.values())


class EventConsumer:
    def __init__(
        self,
        *,
        js: JetStreamContext,
        subjects: Subjects,
        store: NotifyStore,
        handle: EventHandler,
        on_queued: Callable[[], None],
        settings: ConsumerSettings,
    ) -> None:
        self._js = js
        self._subjects = subjects
        self._store = store
        self._handle = handle
        self._on_queued = on_queued
        self._settings = settings
        self._stopped = asyncio.Event()

    def stop(self) -> None:
        """Fetch no more; the message in hand is finished first."""
        self._stopped.set()

    async def subscribe(self) -> JetStreamContext.PullSubscription:
        config = ConsumerConfig(
            durable_name=CONSUMER,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._settings.ack_wait,
            max_deliver=self._settings.max_deliver,
            max_ack_pending=1000,
            filter_subject=self._subjects.all_events,
        )
        return await self._js.pull_subscribe(
            self._subjects.all_events, durable=CONSUMER, stream=self._subjects.events_stream, config=config
        )

    async def run(self) -> None:
        while not self._stopped.is_set():
            try:
                subscription = await self.subscribe()
                try:
                    await self._pump(subscription)
                finally:
                    with contextlib.suppress(nats.errors.Error):
                        await subscription.unsubscribe()
            except nats.errors.Error as error:
                delay = self._settings.transient_delay
                log.warning("event stream unreachable, trying again in %.1fs: %r", delay, error)
                await self._pause(delay)

    async def _pump(self, subscription: JetStreamContext.PullSubscription) -> None:
        while not self._stopped.is_set():
            messages = await fetch_batch(subscription, batch=self._settings.batch, wait=self._settings.fetch_timeout)
            reached = await asyncio.gather(*(self._process_in_order(same) for same in _by_ticket(messages)))
            if not all(reached):
                await self._pause(self._settings.transient_delay)  # PostgreSQL is away: wait before fetching again

    async def _process_in_order(self, messages: list[Msg]) -> bool:
        """Handle one ticket's messages in order; False when PostgreSQL could not be reached, the rest of them
        then handed back in order."""
        for index, message in enumerate(messages):
            if not await self.process(message):
                for later in messages[index + 1 :]:
                    await later.nak(delay=self._settings.transient_delay)
                return False
        return True

    async def process(self, message: Msg) -> bool:
        """Handle one message; False when PostgreSQL could not be reached."""
        decoded = decode_event(message.data)
        try:
            if isinstance(decoded, Unreadable):
                await self._give_up(message, reason=decoded.reason)
                return True
            if isinstance(decoded, UnknownType):
                await message.ack()
                return True
            handled = await self._handle(decoded)
        except TRANSIENT_DB_ERRORS as error:
            log.warning("could not handle %s, trying again later: %r", message.subject, error)
            await self._retry_later(message, reason=f"database: {error!r}", delay=self._settings.transient_delay)
            return False
        except asyncpg.PostgresError as error:
            await self._give_up(message, reason=f"PostgreSQL refuses its data: {error!r}")
            return True
        if handled.outcome is Outcome.EARLY:
            log.info("event_id=%s came before an earlier event of its ticket, trying again later", decoded.event_id)
            delay = self._settings.unseen_ticket_delay
            await self._retry_later(message, reason="an earlier event of its ticket never came", delay=delay)
            return True
        await message.ack()
        if handled.queued:
            self._on_queued()
        return True

    async def _retry_later(self, message: Msg, *, reason: str, delay: float) -> None:
        deliveries = message.metadata.num_delivered
        if deliveries < self._settings.max_deliver:
            await message.nak(delay=delay)
            return
        try:
            await self._give_up(message, reason=f"gave up after {deliveries} deliveries: {reason}")
        except TRANSIENT_DB_ERRORS as error:
            # The stream keeps the message: it can still be replayed from there.
            log.error(
                "dropping %s seq=%d (%s); not dead-lettered: %r",
                message.subject,
                message.metadata.sequence.stream,
                reason,
                error,
            )
            await message.term()

    async def _give_up(self, message: Msg, *, reason: str) -> None:
        metadata = message.metadata
        letter = DeadLetter(
            stream=metadata.stream,
            stream_seq=metadata.sequence.stream,
            subject=message.subject,
            headers=dict(message.headers or {}),
            payload=message.data,
            error=reason,
        )
        await self._store.dead_letter(letter)
        await message.term()
        log.error("dead-lettered %s seq=%d: %s", message.subject, letter.stream_seq, reason)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)
