"""The messages of the catch-up decoded into chunks, each chunk written in one transaction.

Decoding and writing overlap: this task decodes while a writer task waits on PostgreSQL with the chunk before
(a queue of one between them). Bad messages are dead-lettered through the live store, as the live path does,
before their chunk commits: a crash in between can keep one twice, never lose one. A value the database refuses
makes the chunk go through the live store's ``apply`` instead, which rejects only that event. An event of a type
this version does not know moves its ticket's version; one without an envelope is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from hostdesk_contracts.decoding import Known, Undecodable, Unknown, decode_signed
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.signing import EventSigner

from hostdesk_query.adapters.catchup_store import Advance, CatchUpStore, Start
from hostdesk_query.adapters.catchup_stream import Batch, StreamMessage
from hostdesk_query.adapters.ports import DeadLetter, ProjectionStore, Rejected
from hostdesk_query.adapters.postgres import REFUSED_ERRORS
from hostdesk_query.domain.catchup_plan import Pending, in_ticket_order, resume_seq
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.projection import bump_of, change_of

log = logging.getLogger(__name__)

_FALLBACK_SLICE = 256  # events per transaction when a chunk goes through the live store's apply
# What data the database cannot take raises: its own errors, and asyncpg's encoding errors, which COPY does not
# wrap (executemany, on the live path, turns them into DataError).
_REFUSED: tuple[type[BaseException], ...] = (*REFUSED_ERRORS, OverflowError, ValueError, TypeError)


@dataclass
class _Chunk:
    events: list[Pending[StreamMessage]] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    count: int = 0  # messages read, whatever became of them
    last_seq: int = 0


def dead_letter(message: StreamMessage, error: str) -> DeadLetter:
    return DeadLetter(
        subject=message.subject,
        data=message.data,
        headers=dict(message.headers),
        error=error,
        stream_seq=message.seq,
        deliveries=1,
    )


class CatchUpWriter:
    def __init__(
        self,
        store: CatchUpStore,
        *,
        live: ProjectionStore,
        start: Start,
        signer: EventSigner,
        chunk_events: int,
        max_held: int,
    ) -> None:
        self._store = store
        self._signer = signer
        self._live = live
        self._start = start
        self._chunk_events = chunk_events
        self._max_held = max_held
        self._resume_seq = start.resume_seq
        self._handing_over = False  # too many events held: the live consumer takes over from the first

    async def run(self, raw: asyncio.Queue[Batch | None], stopping: asyncio.Event) -> int | None:
        """Write what the reader gives until its end (None); then where the live consumer starts. None when
        ``stopping`` is set first: the chunks in hand are written, what was not is read again next time."""
        chunks: asyncio.Queue[_Chunk | None] = asyncio.Queue(maxsize=1)
        async with asyncio.TaskGroup() as group:
            group.create_task(self._write_all(chunks), name="query-catchup-writer")
            complete = await self._decode_all(raw, chunks, stopping)
            await chunks.put(None)
        return self._resume_seq if complete else None

    async def _decode_all(
        self, raw: asyncio.Queue[Batch | None], chunks: asyncio.Queue[_Chunk | None], stopping: asyncio.Event
    ) -> bool:
        chunk = _Chunk(last_seq=self._start.resume_seq - 1)
        while not (stopping.is_set() or self._handing_over):
            batch = await raw.get()
            if batch is None:
                await chunks.put(chunk)  # even empty: the progress reaches the end of the range
                return True
            for message in batch:
                self._decode(message, chunk)
            if chunk.count >= self._chunk_events:
                await chunks.put(chunk)
                chunk = _Chunk(last_seq=chunk.last_seq)
            else:
                await asyncio.sleep(0)  # let the reader and the writer go on between batches
        return not stopping.is_set()  # handing over: the live consumer takes over where the writer says

    def _decode(self, message: StreamMessage, chunk: _Chunk) -> None:
        chunk.count += 1
        chunk.last_seq = message.seq
        match decode_signed(self._signer, message.subject, message.headers, message.data):
            case Known(event):
                chunk.events.append(Pending(message.seq, change_of(event), message))
            case Unknown(envelope=TicketEvent() as envelope):
                chunk.events.append(Pending(message.seq, bump_of(envelope), message))
            case Unknown(type=event_type):
                log.info("ignoring an event of unknown type %r on %s", event_type, message.subject)
            case Undecodable(error):
                if message.seq > self._start.read_seq:  # not already kept by the attempt that read it before
                    chunk.letters.append(dead_letter(message, error))

    async def _write_all(self, chunks: asyncio.Queue[_Chunk | None]) -> None:
        held: list[Pending[StreamMessage]] = []
        while (chunk := await chunks.get()) is not None:
            if self._handing_over:
                continue
            await self._keep(chunk.letters)
            held = await self._write([*held, *chunk.events], chunk)
            self._resume_seq = resume_seq(held, read_seq=chunk.last_seq)
            if len(held) > self._max_held:
                log.warning(
                    "%d events ahead of their ticket: the live consumer takes over at #%d", len(held), self._resume_seq
                )
                self._handing_over = True

    async def _write(self, events: list[Pending[StreamMessage]], chunk: _Chunk) -> list[Pending[StreamMessage]]:
        """Write a chunk, with the events held before it; those still ahead of their ticket come back."""
        try:
            return list((await self._store.write(events, read_seq=chunk.last_seq, messages=chunk.count)).held)
        except _REFUSED as error:
            log.warning(
                "the database refused a chunk (%s): applying its %d events one batch at a time", error, len(events)
            )
        held = await self._apply_as_live(events)
        resume = resume_seq(held, read_seq=chunk.last_seq)
        await self._store.advance(Advance(read_seq=chunk.last_seq, resume_seq=resume, messages=chunk.count))
        return held

    async def _apply_as_live(self, events: list[Pending[StreamMessage]]) -> list[Pending[StreamMessage]]:
        """Apply ``events`` through the live store, which rejects only what the database refuses; those ahead of
        their ticket are tried again after the others, as in a chunk. The ones still ahead come back."""
        letters: list[DeadLetter] = []
        held = await self._apply_slices(events, letters)
        while held:
            still = await self._apply_slices(sorted(held, key=in_ticket_order), letters)
            resolved_some = len(still) < len(held)
            held = still
            if not resolved_some:
                break
        await self._keep(letters)
        return sorted(held, key=lambda pending: pending.seq)

    async def _apply_slices(
        self, events: list[Pending[StreamMessage]], letters: list[DeadLetter]
    ) -> list[Pending[StreamMessage]]:
        held: list[Pending[StreamMessage]] = []
        for start in range(0, len(events), _FALLBACK_SLICE):
            part = events[start : start + _FALLBACK_SLICE]
            outcomes = await self._live.apply([pending.change for pending in part])
            for pending, outcome in zip(part, outcomes, strict=True):
                if isinstance(outcome, Rejected):
                    letters.append(dead_letter(pending.message, f"refused by the database: {outcome.reason}"))
                elif outcome is Decision.GAP:
                    held.append(pending)
        return held

    async def _keep(self, letters: list[DeadLetter]) -> None:
        if letters:
            await self._live.keep_dead_letters(letters)
        for letter in letters:
            log.warning("dead-lettered %s #%s: %s", letter.subject, letter.stream_seq, letter.error)
