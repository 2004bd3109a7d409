"""The ticket events notify reads: each fetched batch handled ticket by ticket, and every message settled.

One ticket's messages are handled in stream order, different tickets' at the same time (each its own
connection), so a burst of new tickets does not wait on one round trip after another. Each message is handled
in one PostgreSQL transaction and acknowledged after its commit. Bytes that are no event are dead-lettered and
terminated; an event of a type this version does not know moves its ticket a version on and mails nobody; an
event ahead of an earlier one of its ticket comes back later (``Redelivery``), long enough for an earlier one
held by a replica that died to come back first. While PostgreSQL is away the messages are held, not handed
back, so an outage never uses up their deliveries; so are they while the directory cannot be read (its bucket not
reached yet), which the mail of an event is addressed with.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
from hostdesk_contracts.decoding import Known, Undecodable, Unknown, decode_signed
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.consumer import DeadLetter, Redelivery, hold
from hostdesk_contracts.signing import EventSigner
from hostdesk_contracts.subjects import TICKET_ID
from nats.aio.msg import Msg

from hostdesk_notify.adapters.ports import NotifyStore
from hostdesk_notify.adapters.postgres import POSTGRES_UNAVAILABLE
from hostdesk_notify.service_layer.handlers import HANDLING_UNAVAILABLE, EventHandler, Outcome

log = logging.getLogger(__name__)


def by_ticket(messages: list[Msg]) -> list[list[Msg]]:
    """The messages grouped by their ticket (the ``Ticket-Id`` header), each group in stream order. A message
    without the header (not from the tickets service) is a group of its own."""
    groups: dict[str, list[Msg]] = {}
    for message in messages:
        ticket = (message.headers or {}).get(TICKET_ID) or f"message:{id(message)}"
        groups.setdefault(ticket, []).append(message)
    return list(groups.values())


class TicketEvents:
    def __init__(
        self,
        *,
        store: NotifyStore,
        handle: EventHandler,
        on_queued: Callable[[], None],
        redelivery: Redelivery,
        signer: EventSigner,
        stopping: asyncio.Event,
    ) -> None:
        self._store = store
        self._signer = signer
        self._handle = handle
        self._on_queued = on_queued
        self._redelivery = redelivery
        self._stopping = stopping

    async def handle_batch(self, messages: list[Msg]) -> None:
        await asyncio.gather(*(self._in_order(same) for same in by_ticket(messages)))

    async def _in_order(self, messages: list[Msg]) -> None:
        for index, message in enumerate(messages):
            if not await self.process(message, behind=messages[index + 1 :]):
                return  # stopping while PostgreSQL was away: the rest come back, in order, after their ack wait

    async def process(self, message: Msg, *, behind: list[Msg] | None = None) -> bool:
        """Handle and settle one message; False when asked to stop while PostgreSQL or the directory was away (then
        it is left unsettled, to come back). ``behind``: the ticket's later messages, held with it meanwhile."""
        match decode_signed(self._signer, message.subject, message.headers, message.data):
            case Undecodable(error):
                return await self._give_up(message, reason=error)
            case Unknown(envelope=None, type=event_type):
                log.info("passing over an event of unknown type %r on %s", event_type, message.subject)
                await message.ack()
                return True
            case Unknown(envelope=TicketEvent() as envelope):
                event: TicketEvent = envelope
            case Known(event=known):
                event = known
        try:
            handled = await hold(
                lambda: self._handle(event),
                held=[message, *(behind or ())],
                unavailable=HANDLING_UNAVAILABLE,
                stopping=self._stopping,
                what="PostgreSQL or the directory",
            )
        except HANDLING_UNAVAILABLE:
            return False
        except asyncpg.PostgresError as error:
            return await self._give_up(message, reason=f"PostgreSQL refuses its data: {error!r}")
        if handled.outcome is Outcome.EARLY:
            return await self._wait_for_earlier(message, event)
        await message.ack()
        if handled.queued:
            self._on_queued()
        return True

    async def _wait_for_earlier(self, message: Msg, event: TicketEvent) -> bool:
        deliveries = message.metadata.num_delivered or 1
        if self._redelivery.exhausted(deliveries):
            reason = f"gave up after {deliveries} deliveries: an earlier event of ticket {event.ticket_id} never came"
            return await self._give_up(message, reason=reason)
        log.info("event_id=%s came before an earlier event of its ticket, trying again later", event.event_id)
        await message.nak(delay=self._redelivery.delay(deliveries))
        return True

    async def _give_up(self, message: Msg, *, reason: str) -> bool:
        letter = DeadLetter.of(message, reason)
        try:
            await hold(
                lambda: self._store.dead_letter(letter),
                held=[message],
                unavailable=POSTGRES_UNAVAILABLE,
                stopping=self._stopping,
                what="PostgreSQL",
            )
        except POSTGRES_UNAVAILABLE:
            return False
        await message.term()
        log.error("dead-lettered %s seq=%d: %s", message.subject, letter.stream_seq, reason)
        return True
