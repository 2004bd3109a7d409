"""The whole service on real NATS and PostgreSQL: events published to the stream, read back over HTTP."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
import httpx
import nats
import pytest
import uvicorn
from fastapi import FastAPI
from hostdesk_cli import dead_letters as cli_dead_letters
from hostdesk_cli.read_models import RebuildFailed, rebuild
from hostdesk_contracts import subjects as headers
from hostdesk_contracts.base import Actor, Role, Status, Visibility
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.nats import ensure_streams
from hostdesk_contracts.runtime.serve import server_config
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import free_port
from hostdesk_devtools.stories import TicketStory, account, every_kind_of_event
from hostdesk_query.main import create_app
from hostdesk_query.settings import Settings
from httpx_sse import EventSource, ServerSentEvent, aconnect_sse
from nats.js import JetStreamContext

from tests.support import EVENT_KEY, RELAY_SIGNER, BucketCallers, eventually

SECRET = "integration-test-secret-0123456789abcdef"
DEADLINE_SECONDS = 15.0


@dataclass
class Service:
    settings: Settings
    js: JetStreamContext
    pool: asyncpg.Pool
    client: httpx.AsyncClient | None = None
    app: FastAPI | None = None
    positions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _running: AsyncExitStack | None = None

    async def start(self) -> None:
        app = self.app = create_app(self.settings)
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            self.client = await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://q"))
            self._running = stack.pop_all()

    @asynccontextmanager
    async def listening(self) -> AsyncIterator[str]:
        """The started app served over HTTP by uvicorn on a port of its own (a stream needs a real connection);
        yields its base URL."""
        assert self.app is not None
        config = server_config(self.app, self.settings.model_copy(update={"host": "127.0.0.1", "port": free_port()}))
        config.lifespan, config.log_config = "off", None  # started already; the test run's logging as it is
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())

        async def started() -> bool:
            return server.started

        await eventually(started, within=DEADLINE_SECONDS, what="query's server starting")
        try:
            yield f"http://127.0.0.1:{config.port}"
        finally:
            server.should_exit = True
            await serving

    async def bearer(self, caller: Actor) -> dict[str, str]:
        return await BucketCallers(self.js, self.settings.subjects).bearer(caller, secret=SECRET)

    async def stop(self) -> None:
        if self._running is not None:
            await self._running.aclose()
        self._running = self.client = None

    async def publish(self, event: TicketEvent) -> None:
        await self.publish_raw(
            self.settings.subjects.event(event.tenant, event),
            event.model_dump_json().encode(),
            ticket_id=event.ticket_id,
            version=event.version,
            event_type=type(event).model_fields["type"].default,
        )

    async def publish_raw(
        self, subject: str, data: bytes, *, ticket_id: uuid.UUID, version: int, event_type: str
    ) -> None:
        await self.js.publish(
            subject,
            data,
            headers=RELAY_SIGNER.signed(
                subject,
                {
                    headers.MSG_ID: f"{ticket_id}:{version}",
                    headers.TICKET_ID: str(ticket_id),
                    headers.TICKET_VERSION: str(version),
                    headers.EVENT_TYPE: event_type,
                    headers.ES_POSITION: str(next(self.positions)),
                },
                data,
            ),
        )

    async def get(self, path: str, caller: Actor, **params: object) -> httpx.Response:
        assert self.client is not None
        callers = BucketCallers(self.js, self.settings.subjects)  # each caller recorded in the directory first
        return await self.client.get(path, params=params, headers=await callers.bearer(caller, secret=SECRET))

    async def eventually(
        self, path: str, caller: Actor, until: Callable[[httpx.Response], bool], **params: object
    ) -> httpx.Response:
        seen: list[httpx.Response] = []

        async def answered() -> bool:
            seen[:] = [await self.get(path, caller, **params)]
            return until(seen[0])

        def last() -> str:
            return f"still {seen[0].status_code} {seen[0].text[:300]}"

        await eventually(answered, within=DEADLINE_SECONDS, every=0.02, what=last)
        return seen[0]


def at_version(version: int) -> Callable[[httpx.Response], bool]:
    return lambda response: response.status_code == 200 and response.json()["version"] >= version


@pytest.fixture
async def service(
    database_url: str,
    nats_url: str,
    subjects: Subjects,
    query_pool: asyncpg.Pool,
    service_nats: Callable[[str], dict[str, str]],
) -> AsyncIterator[Service]:
    settings = Settings(
        DATABASE_URL=database_url,
        NATS_URL=nats_url,
        HOSTDESK_JWT_SECRET=SECRET,
        HOSTDESK_SUBJECT_ROOT=subjects.root,
        HOSTDESK_EVENT_KEY=EVENT_KEY,
        **service_nats("query"),
        fetch_timeout_seconds=0.2,
        gap_retry_seconds=0.05,
        gap_retry_max_seconds=1.0,
        ack_wait_seconds=2.0,  # the waits of a gap (5.6 s in all) outlast two of these
        live_streams_per_caller=2,
    )
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    service = Service(settings=settings, js=js, pool=query_pool)
    try:
        await service.start()
        yield service
    finally:
        await service.stop()
        await js.delete_stream(subjects.events_stream)
        await js.delete_stream(subjects.commands_stream)
        await nc.close()


async def test_published_events_appear_through_the_api(service: Service, tenant: str) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story = TicketStory(customer)
    for event in (
        story.opened(subject="Site down"),
        story.reply(agent, "Restarted."),
        story.status_change(agent, Status.ANSWERED),
    ):
        await service.publish(event)

    response = await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(3))

    ticket = response.json()
    assert (ticket["subject"], ticket["status"]) == ("Site down", "answered")
    assert [entry["kind"] for entry in ticket["timeline"]] == ["opened", "post", "status_changed"]


async def test_pages_of_the_list_hold_every_ticket_once(service: Service, tenant: str) -> None:
    customer = account(tenant)
    stories = [TicketStory(customer) for _ in range(7)]
    for story in stories:
        await service.publish(story.opened())
    await service.eventually("/v1/tickets", customer, lambda r: len(r.json()["items"]) == 7, limit=100)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await service.get("/v1/tickets", customer, **params)).json()
        seen += [item["ticket_id"] for item in page["items"]]
        pages += 1
        if (cursor := page["next_cursor"]) is None:
            break

    assert pages == 3
    assert seen == sorted((str(story.ticket_id) for story in stories), reverse=True)


async def test_a_customer_gets_404_for_another_customers_ticket(service: Service, tenant: str) -> None:
    owner, stranger = account(tenant), account(tenant)
    story = TicketStory(owner)
    await service.publish(story.opened())
    await service.eventually(f"/v1/tickets/{story.ticket_id}", owner, at_version(1))

    response = await service.get(f"/v1/tickets/{story.ticket_id}", stranger)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_internal_notes_are_hidden_from_the_requester(service: Service, tenant: str) -> None:
    customer, agent = account(tenant), account(tenant, Role.SUPERVISOR)
    story = TicketStory(customer)
    await service.publish(story.opened())
    await service.publish(story.reply(agent, "Do not refund.", visibility=Visibility.INTERNAL))
    staff_view = await service.eventually(f"/v1/tickets/{story.ticket_id}", agent, at_version(2))

    customer_view = await service.get(f"/v1/tickets/{story.ticket_id}", customer)

    assert [entry["version"] for entry in staff_view.json()["timeline"]] == [1, 2]
    assert [entry["position"] for entry in customer_view.json()["timeline"]] == [1]
    assert "Do not refund." not in customer_view.text


async def test_a_garbage_payload_is_dead_lettered_and_the_events_behind_it_still_apply(
    service: Service, tenant: str
) -> None:
    customer = account(tenant)
    story = TicketStory(customer)
    garbage = f"garbage for {story.ticket_id}".encode()
    await service.publish(story.opened())
    await service.publish_raw(
        f"{service.settings.subjects.root}.events.{tenant}.opened.v1",
        garbage,
        ticket_id=uuid.uuid4(),
        version=1,
        event_type="ticket.opened.v1",
    )
    await service.publish(story.reply(customer, "Hello?"))

    await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(2))

    letter = await service.pool.fetchrow("SELECT error, headers FROM dead_letters WHERE data = $1", garbage)
    assert letter is not None
    assert "not JSON" in letter["error"]
    assert json.loads(letter["headers"])[headers.EVENT_TYPE] == "ticket.opened.v1"


async def test_an_event_of_an_unknown_type_is_skipped_and_the_next_ones_apply(service: Service, tenant: str) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story = TicketStory(customer)
    await service.publish(story.opened())
    escalated = story.reply(agent).model_dump(mode="json") | {"type": "ticket.escalated.v1", "level": 2}
    await service.publish_raw(
        service.settings.subjects.event(tenant, story.reply(agent)).replace("reply_posted", "escalated"),
        json.dumps(escalated).encode(),
        ticket_id=story.ticket_id,
        version=2,
        event_type="ticket.escalated.v1",
    )
    story.version = 2
    await service.publish(story.reply(agent, "Escalated to the second level."))

    response = await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(3))

    # The requester counts only what it sees: the unknown event's version shows as no gap.
    assert [entry["position"] for entry in response.json()["timeline"]] == [1, 2]


async def test_events_published_out_of_order_end_up_applied_in_order(service: Service, tenant: str) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story = TicketStory(customer)
    opened, reply, answered = story.opened(), story.reply(agent), story.status_change(agent, Status.ANSWERED)
    for event in (answered, reply, opened):
        await service.publish(event)

    response = await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(3))

    assert response.json()["status"] == "answered"
    assert [entry["position"] for entry in response.json()["timeline"]] == [1, 2, 3]


async def test_a_read_with_min_version_waits_for_the_event_just_published(service: Service, tenant: str) -> None:
    customer = account(tenant)
    story = TicketStory(customer)
    await service.publish(story.opened())
    await service.publish(story.reply(customer, "Also the mail is down."))

    response = await service.get(f"/v1/tickets/{story.ticket_id}", customer, min_version=2)

    assert response.status_code == 200
    assert response.json()["version"] == 2


async def test_the_consumer_resumes_where_it_stopped_after_a_restart(service: Service, tenant: str) -> None:
    customer = account(tenant)
    story = TicketStory(customer)
    await service.publish(story.opened())
    await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(1))

    await service.stop()
    await service.publish(story.reply(customer, "Written while the service was down."))
    await service.start()

    await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(2))


async def test_a_ticket_through_every_kind_of_event_shows_each_side_what_it_may_see(
    service: Service, tenant: str
) -> None:
    lifecycle = every_kind_of_event(tenant)
    target = f"/v1/tickets/{lifecycle.target.ticket_id}"
    for event in lifecycle.events:
        await service.publish(event)

    for_staff = (await service.eventually(target, lifecycle.agent, at_version(lifecycle.target.version))).json()
    for_requester = (await service.get(target, lifecycle.requester)).json()
    source = (await service.get(f"/v1/tickets/{lifecycle.source.ticket_id}", lifecycle.requester)).json()

    for ticket in (for_staff, for_requester):
        assert (ticket["status"], ticket["archived"], ticket["priority"], ticket["category"]) == (
            "closed",
            True,
            "high",
            "Refunds",
        )
        assert ticket["rating"] == {"rating": "unsatisfied", "comment": "Two days without mail."}
    assert (for_staff["tags"], for_staff["assignee"]) == (["vps", "refund"], None)
    assert {"tags", "assignee"}.isdisjoint(for_requester)
    assert {entry["kind"] for entry in for_staff["timeline"]} - {
        entry["kind"] for entry in for_requester["timeline"]
    } == {
        "assigned",
        "tags_changed",
    }
    assert source["merged_into"] == {"ticket_id": str(lifecycle.target.ticket_id), "number": lifecycle.target.number}
    times = [datetime.fromisoformat(entry["occurred_at"]) for entry in for_staff["timeline"]]
    assert times == sorted(times)


async def test_the_list_filters_on_the_archive_and_the_assignee(service: Service, tenant: str) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    archived, assigned = TicketStory(customer), TicketStory(customer)
    for event in (archived.opened(), archived.close(agent), assigned.opened(), assigned.assign(agent, agent)):
        await service.publish(event)
    await service.eventually(f"/v1/tickets/{assigned.ticket_id}", agent, at_version(2))
    await service.eventually(f"/v1/tickets/{archived.ticket_id}", agent, at_version(2))

    async def listed(**params: object) -> list[str]:
        return [item["ticket_id"] for item in (await service.get("/v1/tickets", agent, **params)).json()["items"]]

    assert await listed(archived="true") == [str(archived.ticket_id)]
    assert await listed(archived="false") == [str(assigned.ticket_id)]
    assert await listed(assignee="me") == [str(assigned.ticket_id)]
    assert await listed(assignee="none") == [str(archived.ticket_id)]


async def changes(source: EventSource, count: int) -> list[ServerSentEvent]:
    """The next ``count`` changes of a live stream (its other events, a resync or an overflow, fail the test)."""
    told: list[ServerSentEvent] = []
    async with asyncio.timeout(DEADLINE_SECONDS):
        async for event in source.aiter_sse():
            if event.event == "message" and not event.data:
                continue  # a block of no data (the retry time, a ping): a browser dispatches nothing for it
            assert event.event == "ticket", (event.event, event.data)
            told.append(event)
            if len(told) == count:
                return told
    raise AssertionError(f"the stream ended after {len(told)} of {count} changes")


def told(events: list[ServerSentEvent]) -> list[tuple[str, int, str]]:
    return [(e.json()["ticket_id"], e.json()["version"], e.json()["change"]) for e in events]


async def test_a_live_stream_tells_what_each_caller_may_see_and_a_reconnect_misses_nothing(
    service: Service, tenant: str
) -> None:
    customer, agent, stranger = account(tenant), account(tenant, Role.AGENT), account(tenant)
    story, strangers = TicketStory(customer), TicketStory(stranger)
    ticket = str(story.ticket_id)
    async with service.listening() as url, httpx.AsyncClient(base_url=url, timeout=DEADLINE_SECONDS) as client:
        heads = {caller.account_id: await service.bearer(caller) for caller in (customer, agent, stranger)}
        async with (
            aconnect_sse(client, "GET", "/v1/stream", headers=heads[customer.account_id]) as customers,
            aconnect_sse(client, "GET", "/v1/stream", headers=heads[agent.account_id]) as agents,
            aconnect_sse(client, "GET", "/v1/stream", headers=heads[stranger.account_id]) as strangers_stream,
        ):
            await service.publish(story.opened())
            (customer_first,) = await changes(customers, 1)
            (agent_first,) = await changes(agents, 1)
        # Both gone: what happens now is told when they come back, from their last change on.
        for event in (
            story.reply(agent, "Disk full on the host.", visibility=Visibility.INTERNAL),
            story.reply(agent, "We are on it."),
            story.status_change(agent, Status.ANSWERED),
        ):
            await service.publish(event)
        resumed = {"Last-Event-ID": customer_first.id}
        async with aconnect_sse(client, "GET", "/v1/stream", headers=heads[customer.account_id] | resumed) as again:
            customer_rest = await changes(again, 2)
        resumed = {"Last-Event-ID": agent_first.id}
        async with aconnect_sse(client, "GET", "/v1/stream", headers=heads[agent.account_id] | resumed) as again:
            agent_rest = await changes(again, 3)
        async with aconnect_sse(client, "GET", "/v1/stream", headers=heads[stranger.account_id]) as strangers_stream:
            await service.publish(strangers.opened())
            stranger_told = await changes(strangers_stream, 1)

    assert told([customer_first]) == told([agent_first]) == [(ticket, 1, "opened")]
    assert told(customer_rest) == [(ticket, 3, "posted"), (ticket, 4, "status")]  # never the internal note
    assert told(agent_rest) == [(ticket, 2, "noted"), (ticket, 3, "posted"), (ticket, 4, "status")]
    assert [int(e.id) for e in agent_rest] == sorted({int(e.id) for e in agent_rest})
    assert told(stranger_told) == [(str(strangers.ticket_id), 1, "opened")]  # nothing of the other customer's


async def test_a_caller_holds_a_bounded_number_of_live_streams(service: Service, tenant: str) -> None:
    customer = account(tenant)
    async with service.listening() as url, httpx.AsyncClient(base_url=url, timeout=DEADLINE_SECONDS) as client:
        head = await service.bearer(customer)
        async with (
            aconnect_sse(client, "GET", "/v1/stream", headers=head),
            aconnect_sse(client, "GET", "/v1/stream", headers=head),
        ):
            refused = await client.get("/v1/stream", headers=head)
            bad_id = await client.get("/v1/stream", headers=head | {"Last-Event-ID": "yesterday"})
        async with aconnect_sse(client, "GET", "/v1/stream", headers=head) as again:  # the others closed: room again
            assert again.response.status_code == 200

    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert "Retry-After" in refused.headers
    assert bad_id.status_code == 422
    assert [param["name"] for param in bad_id.json()["invalid-params"]] == ["Last-Event-ID"]


async def test_a_rebuild_under_write_load_switches_readers_over_with_no_gap_and_no_double(
    service: Service, tenant: str, database_url: str, nats_url: str
) -> None:
    base = f"rebuilt_{uuid.uuid4().hex[:8]}"  # a read model of its own: the rebuild drops its first version
    settings = service.settings.model_copy(update={"db_schema": base, "consumer_name": f"query_{base}"})
    own = Service(settings=settings, js=service.js, pool=service.pool)
    nc = await nats.connect(nats_url)
    await own.start()
    try:
        customer, agent = account(tenant), account(tenant, Role.AGENT)
        stories = [TicketStory(customer) for _ in range(20)]
        for story in stories:
            await own.publish(story.opened())
        await own.eventually("/v1/tickets", customer, lambda r: len(r.json()["items"]) == 20, limit=100)
        answers: list[int] = []
        writing_done = asyncio.Event()

        async def write() -> None:
            for n in range(240):
                await own.publish(stories[n % len(stories)].reply(agent, f"Reply {n}."))
                await asyncio.sleep(0.005)
            writing_done.set()

        async def read() -> None:
            while not writing_done.is_set() or len(answers) < 50:
                story = stories[len(answers) % len(stories)]
                answers.append((await own.get(f"/v1/tickets/{story.ticket_id}", customer)).status_code)
                answers.append((await own.get("/v1/tickets", customer, limit=5)).status_code)

        async with asyncio.TaskGroup() as group:
            group.create_task(write())
            group.create_task(read())
            rebuilt = group.create_task(
                rebuild(database_url, nc, base=base, stream=settings.subjects.events_stream, every=0.05)
            )
        outcome = rebuilt.result()
        for story in stories:  # every reply is in the new version, at its ticket's last version
            await own.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(story.version))
        schema = f"{base}_v2"
        versions = await service.pool.fetch(
            f'SELECT ticket_id, array_agg(version ORDER BY version) AS versions FROM "{schema}".timeline'
            " GROUP BY ticket_id"
        )
        old = await service.pool.fetchval("SELECT to_regnamespace($1)", base)
    finally:
        await own.stop()
        await nc.close()
        await service.pool.execute(f'DROP SCHEMA IF EXISTS "{base}_v2" CASCADE')
        await service.pool.execute(f'DROP SCHEMA IF EXISTS "{base}_control" CASCADE')
        await service.pool.execute(f'DROP SCHEMA IF EXISTS "{base}" CASCADE')

    assert outcome.switched
    assert outcome.dropped is not None
    assert (outcome.version.version, outcome.dropped.version) == (2, 1)
    assert set(answers) == {200}  # served all along, by one version or the other
    held = {row["ticket_id"]: row["versions"] for row in versions}
    assert held == {story.ticket_id: list(range(1, story.version + 1)) for story in stories}  # no gap, no double
    assert old is None  # the version before is dropped


async def test_a_dead_letter_replayed_from_the_command_line_is_applied_once_its_ticket_has_caught_up(
    service: Service, tenant: str, database_url: str
) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story = TicketStory(customer)
    opening, reply = story.opened(), story.reply(agent, "Came before its ticket.")
    await service.publish(reply)  # its ticket's opening is not there: retried, then set aside

    async def set_aside() -> int | None:
        return await service.pool.fetchval(
            "SELECT id FROM dead_letters WHERE headers->>$1 = $2", headers.TICKET_ID, str(story.ticket_id)
        )

    await eventually(set_aside, within=DEADLINE_SECONDS, what="the reply dead-lettered")
    letter_id = await set_aside()
    assert letter_id is not None
    await service.publish(opening)
    await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(1))

    outcome = await cli_dead_letters.replay(
        database_url, cli_dead_letters.Service.QUERY, "query", letter_id, within=DEADLINE_SECONDS
    )

    assert outcome == cli_dead_letters.Replay(replayed=True, error=None)
    await service.eventually(f"/v1/tickets/{story.ticket_id}", customer, at_version(2))
    assert await set_aside() is None


async def test_a_rebuild_of_a_read_model_query_never_made_says_so(database_url: str, nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        with pytest.raises(RebuildFailed, match="no read model versions under never_made_control"):
            await rebuild(database_url, nc, base="never_made", stream="NOWHERE")
    finally:
        await nc.close()
