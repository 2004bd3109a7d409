"""A fresh read model catches up in bulk from the events stream, on real NATS and PostgreSQL, then the live consumer
takes over."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import nats
import pytest
from hostdesk_contracts import subjects as headers
from hostdesk_contracts.access import reach_of
from hostdesk_contracts.base import Role, Status, Visibility
from hostdesk_contracts.events import AnyEvent, TicketEvent
from hostdesk_contracts.runtime.consumer import DurableConsumer
from hostdesk_contracts.runtime.nats import ensure_streams
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.stories import TicketStory, account, every_kind_of_event
from hostdesk_query.adapters.catchup_stream import Batch, StreamRange
from hostdesk_query.adapters.notices import notify_channel
from hostdesk_query.adapters.ports import DeadLetter, Outcome, ProjectionStore
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.adapters.rows import ENTRY_COLUMNS, TICKET_COLUMNS
from hostdesk_query.adapters.schema import ensure_schema
from hostdesk_query.domain.projection import Change
from hostdesk_query.entrypoints.catchup import CatchUp
from hostdesk_query.main import create_app
from hostdesk_query.settings import Settings
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from tests.support import EVENT_KEY, RELAY_SIGNER, eventually, tallies, words
from tests.unit.query.files import attached, attachment_of, merged_with_files

SECRET = "integration-test-secret-0123456789abcdef"
DEADLINE_SECONDS = 30.0


@dataclass
class Stream:
    """The test's events stream, published to as the relay does."""

    nc: Client
    subjects: Subjects

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream()

    async def publish(self, event: TicketEvent, *, msg_id: str | None = None) -> int:
        data = event.model_dump_json().encode()
        return await self.publish_raw(
            self.subjects.event(event.tenant, event), data, event=event, msg_id=msg_id or event.event_id
        )

    async def publish_raw(self, subject: str, data: bytes, *, event: TicketEvent, msg_id: str) -> int:
        ack = await self.js.publish(
            subject,
            data,
            headers=RELAY_SIGNER.signed(subject, headers.event_headers(event) | {headers.MSG_ID: msg_id}, data),
        )
        return ack.seq

    async def publish_all(self, events: Sequence[TicketEvent]) -> int:
        seq = 0
        for event in events:
            seq = await self.publish(event)
        return seq

    async def settled(self, consumer: str) -> bool:
        """The consumer exists and has every message of the stream behind it, acknowledged or terminated."""
        try:
            info = await self.js.consumer_info(self.subjects.events_stream, consumer)
        except NotFoundError:
            return False
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)


@pytest.fixture
async def stream(nats_url: str, subjects: Subjects) -> AsyncIterator[Stream]:
    nc = await nats.connect(nats_url)
    await ensure_streams(nc.jetstream(), subjects)
    yield Stream(nc, subjects)
    await nc.close()


def fresh_name() -> str:
    return f"rm_{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def query_service(database_url: str, nats_url: str, subjects: Subjects, name: str) -> AsyncIterator[None]:
    """The query service with a schema and a consumer of its own, both called ``name``."""
    settings = Settings(
        DATABASE_URL=database_url,
        NATS_URL=nats_url,
        HOSTDESK_JWT_SECRET=SECRET,
        HOSTDESK_SUBJECT_ROOT=subjects.root,
        HOSTDESK_EVENT_KEY=EVENT_KEY,
        db_schema=name,
        consumer_name=name,
        fetch_timeout_seconds=0.2,
        gap_retry_seconds=0.05,
        gap_retry_max_seconds=1.0,
        ack_wait_seconds=2.0,  # the waits of a gap (5.6 s in all) outlast two of these
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield


async def read_model(pool: asyncpg.Pool, schema: str) -> tuple[list[tuple[object, ...]], ...]:
    """Every row of the schema's tickets, timeline and dead letters, in a fixed order."""
    tickets = await pool.fetch(f"SELECT {TICKET_COLUMNS} FROM {schema}.tickets ORDER BY ticket_id")
    timeline = await pool.fetch(f"SELECT {ENTRY_COLUMNS} FROM {schema}.timeline ORDER BY ticket_id, version, part")
    letters = await pool.fetch(
        f"SELECT subject, data, error, stream_seq, deliveries FROM {schema}.dead_letters ORDER BY stream_seq"
    )
    return tuple([tuple(row) for row in rows] for rows in (tickets, timeline, letters))


async def progress(pool: asyncpg.Pool, schema: str) -> asyncpg.Record | None:
    try:
        return await pool.fetchrow(f"SELECT * FROM {schema}.catchup_progress")
    except asyncpg.UndefinedTableError:
        return None


async def caught_up(pool: asyncpg.Pool, schema: str) -> bool:
    row = await progress(pool, schema)
    return row is not None and row["finished_at"] is not None


def conversations(tenant: str, count: int) -> list[AnyEvent]:
    """``count`` tickets opened, answered by staff and marked answered, their events interleaved."""
    agent = account(tenant, Role.AGENT)
    stories = [TicketStory(account(tenant)) for _ in range(count)]
    opened: list[AnyEvent] = [story.opened() for story in stories]
    replies: list[AnyEvent] = [story.reply(agent, "Restarted the web server.") for story in stories]
    answered: list[AnyEvent] = [story.status_change(agent, Status.ANSWERED) for story in stories]
    return [*opened, *replies, *answered]


class CrashingStore:
    """The live store, but the process dies the first time a message has to be dead-lettered."""

    def __init__(self, store: PostgresReadModel) -> None:
        self._store = store
        self.crashed = False

    async def apply(self, changes: Sequence[Change]) -> list[Outcome]:
        return await self._store.apply(changes)

    async def keep_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("the process died")
        await self._store.keep_dead_letters(letters)


@asynccontextmanager
async def schema_pool(database_url: str, schema: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4, server_settings={"search_path": schema})
    assert pool is not None
    await ensure_schema(pool, schema)
    try:
        yield pool
    finally:
        await pool.close()


def catch_up(
    pool: asyncpg.Pool, nc: Client, store: ProjectionStore, subjects: Subjects, name: str, *, chunk_events: int = 100
) -> CatchUp:
    return CatchUp(
        pool=pool,
        nc=nc,
        store=store,
        schema=name,
        stream=subjects.events_stream,
        durable=DurableConsumer(
            stream=subjects.events_stream, name=name, filter_subject=subjects.all_events, max_ack_pending=2048
        ).config(),
        signer=RELAY_SIGNER,
        stopping=asyncio.Event(),
        chunk_events=chunk_events,
        fetch_batch=chunk_events // 2,
    )


async def test_a_fresh_read_model_catches_up_to_what_the_live_path_builds(
    stream: Stream, database_url: str, nats_url: str, subjects: Subjects, db_pool: asyncpg.Pool, tenant: str
) -> None:
    lifecycle = every_kind_of_event(tenant)
    await stream.publish_all(lifecycle.events)
    await stream.publish_all(conversations(tenant, 40))
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    late_opening = TicketStory(customer)
    opened = late_opening.opened()
    await stream.publish(late_opening.reply(agent, "Published before the ticket's opening."))
    await stream.publish(opened)
    await stream.publish(opened, msg_id=f"{opened.event_id}:again")  # the relay published it twice
    garbage_seq = await stream.publish_raw(
        stream.subjects.event(tenant, opened), b"\x00 not an event", event=opened, msg_id="garbage"
    )
    refused_seq = await stream.publish(TicketStory(customer).opened().model_copy(update={"number": 2**63}))
    escalation = late_opening.reply(agent)
    unknown = escalation.model_dump(mode="json") | {"type": "ticket.escalated.v1", "level": 2}
    await stream.publish_raw(
        stream.subjects.event(tenant, escalation).replace("reply_posted", "escalated"),
        json.dumps(unknown).encode(),
        event=escalation,
        msg_id="escalated",
    )
    orphan = TicketStory(customer)
    orphan.opened()  # never published: its reply waits, then the live path dead-letters it
    orphan_seq = await stream.publish(orphan.reply(agent, "To a ticket that never came."))
    last_seq = await stream.publish_all(conversations(tenant, 10))
    live, fresh = fresh_name(), fresh_name()
    await stream.js.add_consumer(
        subjects.events_stream,
        DurableConsumer(
            stream=subjects.events_stream, name=live, filter_subject=subjects.all_events, max_ack_pending=2048
        ).config(),
    )

    async with query_service(database_url, nats_url, subjects, live):
        await eventually(
            lambda: stream.settled(live), within=DEADLINE_SECONDS, what="the live path applied every event"
        )
    async with schema_pool(database_url, fresh) as pool:
        store = PostgresReadModel(pool, notify_channel=notify_channel(fresh))
        async with asyncio.timeout(DEADLINE_SECONDS):
            config = await catch_up(pool, stream.nc, store, subjects, fresh, chunk_events=16).run()
    async with query_service(database_url, nats_url, subjects, fresh):  # binds to the consumer made by the catch-up
        await eventually(
            lambda: stream.settled(fresh),
            within=DEADLINE_SECONDS,
            what="the consumer after the catch-up settled every event",
        )

    assert await read_model(db_pool, fresh) == await read_model(db_pool, live)
    for schema in (live, fresh):  # the tallies kept by the live path's and the catch-up's writes alike
        kept, recounted = await tallies(db_pool, schema)
        assert kept == recounted, schema
    # The catch-up fills the words at its end, the live path keeps them with each write: the same words.
    assert await words(db_pool, fresh) == await words(db_pool, live)
    assert len(await words(db_pool, fresh)) > 100
    tickets, timeline, letters = await read_model(db_pool, fresh)
    lifecycle_tickets = len({event.ticket_id for event in lifecycle.events})  # the merge's two and the imported one
    assert len(tickets) == lifecycle_tickets + 40 + 1 + 10
    assert [letter[3] for letter in letters] == [garbage_seq, refused_seq, orphan_seq]
    assert config is not None
    assert config.opt_start_seq == orphan_seq  # held to the end: the live path took it over
    row = await progress(db_pool, fresh)
    assert row is not None
    assert (row["messages"], row["read_seq"], row["resume_seq"]) == (last_seq, last_seq, orphan_seq)
    assert len(timeline) > len(tickets)


async def test_events_published_after_the_catch_up_come_through_the_live_consumer_once(
    stream: Stream, database_url: str, nats_url: str, subjects: Subjects, db_pool: asyncpg.Pool, tenant: str
) -> None:
    agent = account(tenant, Role.AGENT)
    stories = [TicketStory(account(tenant)) for _ in range(20)]
    caught_up_to = await stream.publish_all([story.opened() for story in stories])
    name = fresh_name()

    async with query_service(database_url, nats_url, subjects, name):
        await eventually(lambda: caught_up(db_pool, name), within=DEADLINE_SECONDS, what="the catch-up finished")
        later = [story.reply(agent, "Looking into it.") for story in stories] + [TicketStory(account(tenant)).opened()]
        last_seq = await stream.publish_all(later)
        await eventually(
            lambda: stream.settled(name), within=DEADLINE_SECONDS, what="the live consumer settled the later events"
        )
        info = await stream.js.consumer_info(subjects.events_stream, name)

    assert info.config.opt_start_seq == caught_up_to + 1
    assert info.delivered.consumer_seq == len(later)  # only the later events, each once
    assert last_seq == caught_up_to + len(later)
    versions = await db_pool.fetch(
        f"SELECT ticket_id, array_agg(version ORDER BY version) AS versions FROM {name}.timeline GROUP BY ticket_id"
    )
    assert sorted(len(row["versions"]) for row in versions) == [1] + [2] * 20
    assert all(row["versions"] == list(range(1, len(row["versions"]) + 1)) for row in versions)


async def test_a_catch_up_that_crashed_midway_resumes_after_its_last_chunk(
    stream: Stream, database_url: str, nats_url: str, subjects: Subjects, tenant: str
) -> None:
    events = conversations(tenant, 150)
    await stream.publish_all(events[:300])
    bad_seq = await stream.publish_raw(
        stream.subjects.event(tenant, events[0]), b"{}", event=events[0], msg_id="no event at all"
    )
    last_seq = await stream.publish_all(events[300:])
    name = fresh_name()
    nc = await nats.connect(nats_url)
    async with schema_pool(database_url, name) as pool:
        live = PostgresReadModel(pool, notify_channel=notify_channel(name))
        crashing = CrashingStore(live)

        async with asyncio.timeout(DEADLINE_SECONDS):
            with pytest.raises(ExceptionGroup) as crash:
                await catch_up(pool, nc, crashing, subjects, name).run()
            stopped_at = await progress(pool, name)
            config = await catch_up(pool, nc, live, subjects, name).run()
        finished = await progress(pool, name)
        tickets, timeline, letters = await read_model(pool, name)
    await nc.close()

    assert crash.group_contains(RuntimeError, match="the process died")
    assert stopped_at is not None
    assert 0 < stopped_at["read_seq"] < bad_seq
    assert finished is not None
    assert finished["messages"] == last_seq  # every message read once over both attempts
    assert config is not None
    assert config.opt_start_seq == last_seq + 1
    assert len(tickets) == 150
    assert len(timeline) == 450
    assert [letter[3] for letter in letters] == [bad_seq]


async def test_of_two_replicas_starting_together_one_catches_up_and_both_bind_to_its_consumer(
    stream: Stream, database_url: str, nats_url: str, subjects: Subjects, tenant: str
) -> None:
    last_seq = await stream.publish_all(conversations(tenant, 100))
    name = fresh_name()
    nc = await nats.connect(nats_url)
    async with schema_pool(database_url, name) as first, schema_pool(database_url, name) as second:
        async with asyncio.timeout(DEADLINE_SECONDS):
            configs = await asyncio.gather(
                *(
                    catch_up(
                        pool, nc, PostgresReadModel(pool, notify_channel=notify_channel(name)), subjects, name
                    ).run()
                    for pool in (first, second)
                )
            )
        row = await progress(first, name)
        tickets, timeline, _ = await read_model(first, name)
    await nc.close()

    assert [config.opt_start_seq if config else None for config in configs] == [last_seq + 1] * 2
    assert row is not None
    assert row["messages"] == last_seq  # read by one of them only
    assert (len(tickets), len(timeline)) == (100, 300)


async def read_range(stream: Stream, *, first: int, last: int, batch: int) -> list[Batch]:
    """What the catch-up's reader puts on its queue for messages ``first`` to ``last``, up to its end."""
    reader = StreamRange(
        stream.nc,
        stream=stream.subjects.events_stream,
        filter_subject=stream.subjects.all_events,
        first=first,
        last=last,
        batch=batch,
        name=fresh_name(),
    )
    out: asyncio.Queue[Batch | None] = asyncio.Queue()
    async with asyncio.timeout(DEADLINE_SECONDS):
        await reader.read_into(out)
    batches: list[Batch] = []
    while (taken := out.get_nowait()) is not None:
        batches.append(taken)
    return batches


async def test_the_reader_takes_requests_filled_by_their_count_in_its_stride(stream: Stream, tenant: str) -> None:
    """Requests of 7 small messages: each ends by its count (a 409 Batch Completed after it on NATS 2.10 and
    later) and the next one goes on."""
    last_seq = await stream.publish_all(conversations(tenant, 30))
    await stream.publish_all(conversations(tenant, 5))  # after the range

    batches = await read_range(stream, first=3, last=last_seq, batch=7)

    assert [message.seq for batch in batches for message in batch] == list(range(3, last_seq + 1))


async def test_the_reader_takes_requests_closed_by_their_bytes_in_its_stride(stream: Stream, tenant: str) -> None:
    """Messages of 600 kB, requests of 4 MiB and 512 messages: each request ends by its bytes, with a 409
    Message Size Exceeds MaxBytes, and the next one takes the message that did not fit."""
    story = TicketStory(account(tenant))
    opened = story.opened()
    subject = stream.subjects.event(tenant, opened)
    seqs = [
        await stream.publish_raw(subject, bytes([n]) * 600_000, event=opened, msg_id=f"large-{n}") for n in range(20)
    ]

    batches = await read_range(stream, first=seqs[0], last=seqs[-1], batch=512)

    read = [message for batch in batches for message in batch]
    assert [message.seq for message in read] == seqs
    assert [message.data[:1] for message in read] == [bytes([n]) for n in range(20)]


async def test_the_catch_up_keeps_each_posts_files_as_the_live_path_does(
    stream: Stream, database_url: str, nats_url: str, subjects: Subjects, tenant: str
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    target, source = TicketStory(customer), TicketStory(customer)
    shot, reply_file, note_file, merged_file = (attachment_of(bytes([n])) for n in range(4))
    source_opened = attached(source.opened(), merged_file)
    events: list[AnyEvent] = [
        attached(target.opened(), shot),
        attached(target.reply(agent), reply_file),
        attached(target.reply(agent, "Inside", visibility=Visibility.INTERNAL), note_file),
        source_opened,
        source.merge_into(agent, target),
        merged_with_files(target.absorb(agent, source), {source_opened.post_id: (merged_file,)}),
    ]
    await stream.publish_all(events)
    name = fresh_name()

    async with schema_pool(database_url, name) as pool:
        store = PostgresReadModel(pool, notify_channel=notify_channel(name))
        async with asyncio.timeout(DEADLINE_SECONDS):
            await catch_up(pool, stream.nc, store, subjects, name, chunk_events=16).run()
        staff_view = await store.ticket_view(reach_of(agent), target.ticket_id, newest_first=False)
        requester_view = await store.ticket_view(reach_of(customer), target.ticket_id, newest_first=False)
        merged_found = await store.posted_file(reach_of(customer), target.ticket_id, merged_file.id)

    assert staff_view is not None
    assert requester_view is not None
    assert [file for entry in staff_view.timeline for file in entry.attachments] == [
        shot,
        merged_file,  # the post's own time: the source's opening, as old as the target's
        reply_file,
        note_file,
    ]
    assert [file for entry in requester_view.timeline for file in entry.attachments] == [shot, merged_file, reply_file]
    assert merged_found is not None
    assert merged_found.attachment == merged_file
