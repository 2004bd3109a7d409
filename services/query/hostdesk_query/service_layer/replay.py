"""Replaying a dead letter: the message set aside goes through the projection again, as the consumer would
take it (its signature checked, decoded, past the version gate). Applied, or found applied already (a
duplicate), it is no longer kept; still refused, undecodable or still ahead of its ticket, it stays, with the
error of this replay. Staff replay a letter through the API (``api.dead_letters``) once what stopped it is
mended (a missing event came, a fixed release reads it); the command line asks for a replay through the
letter's row, and the ``Replayer`` here takes it up.
"""

from __future__ import annotations

import asyncio
import logging

from hostdesk_contracts.decoding import Known, Undecodable, Unknown, decode_signed
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.clock import pause
from hostdesk_contracts.runtime.dead_letters import Replayed, ReplayResult
from hostdesk_contracts.signing import EventSigner

from hostdesk_query.adapters.ports import DeadLetters, KeptLetter, ProjectionStore, Rejected, StoreUnavailable
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.projection import bump_of, change_of

log = logging.getLogger(__name__)


async def replay(letters: DeadLetters, store: ProjectionStore, signer: EventSigner, kept: KeptLetter) -> ReplayResult:
    letter = kept.letter
    match decode_signed(signer, letter.subject, letter.headers, letter.data):
        case Known(event):
            change = change_of(event)
        case Unknown(envelope=TicketEvent() as envelope):
            change = bump_of(envelope)
        case Unknown(type=event_type):
            return await _kept(letters, kept, Replayed.UNDECODABLE, f"an event of unknown type {event_type!r}")
        case Undecodable(error):
            return await _kept(letters, kept, Replayed.UNDECODABLE, error)
    (outcome,) = await store.apply([change])
    if isinstance(outcome, Rejected):
        return await _kept(letters, kept, Replayed.REFUSED, f"refused by the database: {outcome.reason}")
    if outcome is Decision.GAP:
        error = f"ticket {change.ticket_id} has not reached version {change.version - 1} yet"
        return await _kept(letters, kept, Replayed.WAITING, error)
    await letters.settle_letter(kept.id)
    return ReplayResult(Replayed.DUPLICATE if outcome is Decision.DUPLICATE else Replayed.APPLIED)


async def _kept(letters: DeadLetters, kept: KeptLetter, outcome: Replayed, error: str) -> ReplayResult:
    await letters.keep_letter(kept.id, error=error)
    return ReplayResult(outcome, error)


class Replayer:
    """Replays the letters the command line asked for, looking every ``every`` seconds."""

    def __init__(
        self,
        letters: DeadLetters,
        store: ProjectionStore,
        *,
        signer: EventSigner,
        every: float,
        stopping: asyncio.Event,
    ) -> None:
        self._letters = letters
        self._store = store
        self._signer = signer
        self._every = every
        self._stopping = stopping

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                for kept in await self._letters.letters_to_replay(limit=100):
                    result = await replay(self._letters, self._store, self._signer, kept)
                    log.info(
                        "dead letter %d replayed: %s%s",
                        kept.id,
                        result.outcome,
                        f" ({result.error})" * bool(result.error),
                    )
            except StoreUnavailable as error:
                log.warning("dead letters cannot be replayed now: %s", error)
            await pause(self._stopping, self._every)
