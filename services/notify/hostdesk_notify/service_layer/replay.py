"""Replaying a dead letter: the event set aside is handled again as the consumer would (its signature checked,
decoded, mailed by the same rules, once: the inbox still says whether it was). Handled, or found handled
already, it is no longer kept; still undecodable, refused, or ahead of an earlier event of its ticket, it stays,
with the error of this replay. Staff replay a letter through the API (``api.dead_letters``); the command line
asks for one through the letter's row, and the ``Replayer`` here takes it up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
from hostdesk_contracts.decoding import Known, Undecodable, Unknown, decode_signed
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.clock import pause
from hostdesk_contracts.runtime.dead_letters import Replayed, ReplayResult
from hostdesk_contracts.signing import EventSigner

from hostdesk_notify.adapters.ports import KeptLetter, NotifyStore
from hostdesk_notify.adapters.postgres import POSTGRES_UNAVAILABLE
from hostdesk_notify.service_layer.handlers import HANDLING_UNAVAILABLE, EventHandler, Outcome

log = logging.getLogger(__name__)


async def replay(
    store: NotifyStore, handle: EventHandler, signer: EventSigner, kept: KeptLetter, *, on_queued: Callable[[], None]
) -> ReplayResult:
    """Raises what handling raises while PostgreSQL or the directory is away (``HANDLING_UNAVAILABLE``)."""
    letter = kept.letter
    match decode_signed(signer, letter.subject, letter.headers, letter.data):
        case Undecodable(error):
            return await _kept(store, kept, Replayed.UNDECODABLE, error)
        case Unknown(envelope=None, type=event_type):
            return await _kept(store, kept, Replayed.UNDECODABLE, f"an event of unknown type {event_type!r}")
        case Unknown(envelope=TicketEvent() as envelope):
            event: TicketEvent = envelope
        case Known(event=known):
            event = known
    try:
        handled = await handle(event)
    except HANDLING_UNAVAILABLE:
        raise
    except asyncpg.PostgresError as error:
        return await _kept(store, kept, Replayed.REFUSED, f"PostgreSQL refuses its data: {error!r}")
    if handled.outcome is Outcome.EARLY:
        return await _kept(store, kept, Replayed.WAITING, f"an earlier event of ticket {event.ticket_id} is missing")
    await store.settle_letter(kept.id)
    if handled.queued:
        on_queued()
    return ReplayResult(Replayed.DUPLICATE if handled.outcome is Outcome.DUPLICATE else Replayed.APPLIED)


async def _kept(store: NotifyStore, kept: KeptLetter, outcome: Replayed, error: str) -> ReplayResult:
    await store.keep_letter(kept.id, error=error)
    return ReplayResult(outcome, error)


class Replayer:
    """Replays the letters the command line asked for, looking every ``every`` seconds."""

    def __init__(
        self,
        store: NotifyStore,
        handle: EventHandler,
        *,
        signer: EventSigner,
        on_queued: Callable[[], None],
        every: float,
        stopping: asyncio.Event,
    ) -> None:
        self._store = store
        self._handle = handle
        self._signer = signer
        self._on_queued = on_queued
        self._every = every
        self._stopping = stopping

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                for kept in await self._store.letters_to_replay(limit=100):
                    result = await replay(self._store, self._handle, self._signer, kept, on_queued=self._on_queued)
                    log.info("dead letter %d replayed: %s %s", kept.id, result.outcome, result.error or "")
            except (*POSTGRES_UNAVAILABLE, *HANDLING_UNAVAILABLE) as error:
                log.warning("dead letters cannot be replayed now: %s", error)
            await pause(self._stopping, self._every)
