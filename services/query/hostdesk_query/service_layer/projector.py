"""Turning a batch of messages from the events stream into read-model changes, and settling each message.

The whole batch is applied in one transaction (the store falls back to one per event only when the database
refuses some event's data). Messages are acknowledged after the commit. A gap (an event ahead of its ticket)
comes back after a short, growing delay; one still ahead on its last delivery is dead-lettered. Bytes that are
no event are dead-lettered and terminated; an event of an unknown type is acknowledged. While PostgreSQL is
down the batch is held, not redelivered: its messages are told "in progress" and the store is tried again, so
an outage never uses up their deliveries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from hostdesk_contracts.decoding import Known, Undecodable, Unknown, decode_signed
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.consumer import Redelivery, hold
from hostdesk_contracts.signing import EventSigner

from hostdesk_query.adapters.ports import DeadLetter, Delivery, ProjectionStore, Rejected, StoreUnavailable
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.projection import Change, bump_of, change_of

log = logging.getLogger(__name__)

T = TypeVar("T")


def _dead_letter(delivery: Delivery, error: str) -> DeadLetter:
    return DeadLetter(
        subject=delivery.subject,
        data=delivery.data,
        headers=dict(delivery.headers),
        error=error,
        stream_seq=delivery.stream_seq,
        deliveries=delivery.deliveries,
    )


class Projector:
    def __init__(
        self,
        store: ProjectionStore,
        *,
        redelivery: Redelivery,
        signer: EventSigner,
        stopping: asyncio.Event,
        store_retry_max_seconds: float = 5.0,
    ) -> None:
        self._store = store
        self._signer = signer
        self._redelivery = redelivery
        self._stopping = stopping
        self._store_retry_max_seconds = store_retry_max_seconds

    async def handle(self, batch: Sequence[Delivery]) -> None:
        work: list[tuple[Delivery, Change]] = []
        letters: list[tuple[Delivery, DeadLetter]] = []
        settled: list[Delivery] = []
        for delivery in batch:
            match decode_signed(self._signer, delivery.subject, delivery.headers, delivery.data):
                case Known(event):
                    work.append((delivery, change_of(event)))
                case Unknown(envelope=TicketEvent() as envelope):
                    work.append((delivery, bump_of(envelope)))
                case Unknown(type=event_type):
                    log.info("ignoring an event of unknown type %r on %s", event_type, delivery.subject)
                    settled.append(delivery)
                case Undecodable(error):
                    letters.append((delivery, _dead_letter(delivery, error)))

        outcomes = await self._until_stored(lambda: self._store.apply([change for _, change in work]), batch)
        retries: list[Delivery] = []
        for (delivery, change), outcome in zip(work, outcomes, strict=True):
            if isinstance(outcome, Rejected):
                letters.append((delivery, _dead_letter(delivery, f"refused by the database: {outcome.reason}")))
            elif outcome is not Decision.GAP:
                settled.append(delivery)
            elif self._redelivery.exhausted(delivery.deliveries):
                error = f"ticket {change.ticket_id} never reached version {change.version - 1}"
                letters.append((delivery, _dead_letter(delivery, error)))
            else:
                retries.append(delivery)

        for delivery in settled:
            await delivery.ack()
        for delivery in retries:
            await delivery.nak(self._redelivery.delay(delivery.deliveries))
        if letters:
            await self._until_stored(
                lambda: self._store.keep_dead_letters([letter for _, letter in letters]),
                [delivery for delivery, _ in letters],
            )
            for delivery, letter in letters:
                log.warning("dead-lettered %s #%s: %s", delivery.subject, delivery.stream_seq, letter.error)
                await delivery.term()

    async def _until_stored(self, attempt: Callable[[], Awaitable[T]], held: Sequence[Delivery]) -> T:
        """Try ``attempt`` until the store answers, the held messages told meanwhile they are in progress."""
        return await hold(
            attempt,
            held=held,
            unavailable=(StoreUnavailable,),
            stopping=self._stopping,
            max_delay=self._store_retry_max_seconds,
            what="the read model",
        )
