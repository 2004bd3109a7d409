"""Catching up in bulk: a fresh read model is built from the events stream before the live consumer starts.

When a query process starts and its durable consumer does not exist yet (a new installation, or a rebuild into
a new schema under a new consumer name), the live path (batches of a few hundred messages, each acknowledged,
a transaction with a lock per ticket for each batch) would take long over a long stream. Instead:

1. **One replica.** It takes a PostgreSQL advisory lock named after the schema, stream and consumer; the others
   wait, looking now and then whether the consumer exists, and then bind to it. The holder looks once more
   after taking the lock, since another may have finished meanwhile.
2. **Up to the stream's last sequence at that moment**, from where an earlier catch-up of the same stream
   stopped (``catchup_progress``; a stream deleted and created again starts over). A reader task fills a
   bounded queue from an ephemeral pull consumer that needs no acknowledgement, asked for large batches
   (``adapters.catchup_stream``).
3. **Decoding and writing overlap** (``service_layer.catchup_writer``): this process decodes the messages
   (``decode_event``, ``change_of``, ``bump_of``) into chunks of a few thousand events while the chunk before is
   written in one transaction: a read of the chunk's tickets, the version gate and the projection in memory
   (``plan_batch``), COPY of the new tickets and of the timeline entries, ``UPDATE ... FROM`` a COPY'd temporary
   table for the tickets that existed, and the progress row (``adapters.catchup_store``). Bad messages are
   dead-lettered as the live path does and never stop the catch-up.
4. **Events ahead of their ticket** are held and tried again with each chunk (``domain.catchup_plan``). Those
   still held at the end, or too many of them, are left to the live path: the durable consumer then starts at
   the first held message (what lies after it comes again and is acknowledged as duplicates).
5. **The tallies and the words** (counts, search) are left by the chunks' triggers and filled all at once, in
   one transaction, once everything is written (``adapters.catching_up``): until then, counts and search show
   what they held before the catch-up.
6. **The hand-over.** The durable consumer is created starting at the progress row's resume sequence (the
   stream's last sequence + 1, when nothing is held); what was published meanwhile comes through it, without a
   gap or a double. A crash anywhere resumes from the last chunk committed; SIGTERM stops after the chunks in
   hand. NATS and PostgreSQL outages are waited out, each attempt resuming from the progress row.

The work is CPU-bound and stays in one process (the README's performance section tells why). The cyclic garbage
collector is held back while catching up: the chunks in flight are many live objects, walked again by every
collection, and the catch-up makes next to no cyclic garbage. No notification is sent for the tickets written
(readers waiting on a version look again on their own), and readers see the read model fill up while it catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import asyncpg
import nats.errors
from hostdesk_contracts.signing import EventSigner
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from hostdesk_query.adapters.catchup_store import CatchUpStore, Start
from hostdesk_query.adapters.catchup_stream import Batch, ReadInterrupted, StreamRange
from hostdesk_query.adapters.ports import ProjectionStore, StoreUnavailable
from hostdesk_query.adapters.postgres import UNAVAILABLE_ERRORS
from hostdesk_query.service_layer.catchup_writer import CatchUpWriter

log = logging.getLogger(__name__)

CHUNK_EVENTS = 4_096  # events per transaction
FETCH_BATCH = 512  # messages per pull request
MAX_HELD = 10_000  # events ahead of their ticket kept in memory; more, and the live path takes over there
_RAW_BATCHES = 8  # batches read ahead of the decoding
_YOUNG_GENERATION_THRESHOLD = 1_000_000  # new objects between collections of the youngest generation
_LOCK_POLL_SECONDS = 0.5
_PAUSE_MAX_SECONDS = 5.0
_RETRIED: tuple[type[BaseException], ...] = (
    nats.errors.Error,
    ReadInterrupted,
    StoreUnavailable,
    TimeoutError,
    *UNAVAILABLE_ERRORS,
)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    threshold = gc.get_threshold()
    gc.set_threshold(_YOUNG_GENERATION_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


class CatchUp:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        nc: Client,
        store: ProjectionStore,
        schema: str,
        stream: str,
        durable: ConsumerConfig,
        signer: EventSigner,
        stopping: asyncio.Event,
        chunk_events: int = CHUNK_EVENTS,
        fetch_batch: int = FETCH_BATCH,
        max_held: int = MAX_HELD,
    ) -> None:
        if durable.durable_name is None or durable.filter_subject is None:
            raise ValueError("the durable consumer needs a name and a filter subject")
        self._pool = pool
        self._signer = signer
        self._nc = nc
        self._js = nc.jetstream()
        self._store = store
        self._schema = schema
        self._stream = stream
        self._durable = durable
        self._consumer: str = durable.durable_name
        self._filter_subject: str = durable.filter_subject
        self._stopping = stopping
        self._chunk_events = chunk_events
        self._fetch_batch = fetch_batch
        self._max_held = max_held

    async def run(self) -> ConsumerConfig | None:
        """Catch up if the durable consumer does not exist yet, then return its configuration, to bind to.
        None when asked to stop first."""
        pause = 0.1
        while not self._stopping.is_set():
            try:
                return await self._attempt()
            except* _RETRIED as errors:
                log.warning("catching up on %s paused for %.1fs: %r", self._stream, pause, errors.exceptions)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=pause)
            pause = min(pause * 2, _PAUSE_MAX_SECONDS)
        return None

    async def _existing(self) -> ConsumerConfig | None:
        try:
            info = await self._js.consumer_info(self._stream, self._consumer)
        except NotFoundError:
            return None
        found = info.config
        return replace(self._durable, deliver_policy=found.deliver_policy, opt_start_seq=found.opt_start_seq)

    async def _attempt(self) -> ConsumerConfig | None:
        if (existing := await self._existing()) is not None:
            return existing
        async with self._pool.acquire() as connection:
            store = CatchUpStore(connection, schema=self._schema, stream=self._stream, consumer=self._consumer)
            while not await store.try_lock():
                if (existing := await self._existing()) is not None:
                    return existing
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=_LOCK_POLL_SECONDS)
                if self._stopping.is_set():
                    return None
            try:
                if (existing := await self._existing()) is not None:
                    return existing
                return await self._catch_up(store)
            finally:
                with contextlib.suppress(*UNAVAILABLE_ERRORS, asyncpg.PostgresError):
                    await store.unlock()

    async def _catch_up(self, store: CatchUpStore) -> ConsumerConfig | None:
        info = await self._js.stream_info(self._stream)
        last = int(info.state.last_seq or 0)
        start = await store.start(stream_created=info.created, target_seq=last)
        resume_seq: int | None = start.resume_seq
        if start.resume_seq <= last:
            log.info("catching up on %s from #%d to #%d", self._stream, start.resume_seq, last)
            with _fewer_collections():
                resume_seq = await self._read_and_write(store, start, last=last)
            if resume_seq is None:
                return None
        await store.fill_tallies_and_words()
        durable = replace(self._durable, deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=resume_seq)
        await self._js.add_consumer(self._stream, durable)
        await store.finish()
        log.info("caught up on %s; consumer %s starts at #%d", self._stream, self._consumer, resume_seq)
        return durable

    async def _read_and_write(self, store: CatchUpStore, start: Start, *, last: int) -> int | None:
        """Where the live consumer starts once everything is written; None when asked to stop first."""
        reader = StreamRange(
            self._nc,
            stream=self._stream,
            filter_subject=self._filter_subject,
            first=start.resume_seq,
            last=last,
            batch=self._fetch_batch,
            name=f"{self._consumer}-catchup-{uuid.uuid4().hex[:8]}",
        )
        writer = CatchUpWriter(
            store,
            live=self._store,
            start=start,
            signer=self._signer,
            chunk_events=self._chunk_events,
            max_held=self._max_held,
        )
        raw: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=_RAW_BATCHES)
        async with asyncio.TaskGroup() as group:
            reading = group.create_task(reader.read_into(raw), name="query-catchup-reader")
            resume_seq = await writer.run(raw, self._stopping)
            reading.cancel()
        return resume_seq
