import asyncio
import uuid

import asyncpg
import pytest
from hostdesk_contracts.access import reach_of
from hostdesk_contracts.base import Role, Status
from hostdesk_contracts.events import TicketEvent
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_query.adapters import ticket_counts
from hostdesk_query.adapters.notices import PostgresVersionNotices, notify_channel
from hostdesk_query.adapters.ports import Rejected
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.adapters.schema import ensure_schema
from hostdesk_query.domain.counting import Tally, TicketCounts
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.listing import TicketFilter
from hostdesk_query.domain.projection import Change, change_of


def changes(*events: TicketEvent) -> list[Change]:
    return [change_of(event) for event in events]  # type: ignore[arg-type]


async def counts(pool: asyncpg.Pool, ticket_id: uuid.UUID) -> tuple[int, list[int]]:
    tickets = await pool.fetchval("SELECT count(*) FROM tickets WHERE ticket_id = $1", ticket_id)
    versions = await pool.fetch("SELECT version FROM timeline WHERE ticket_id = $1 ORDER BY version", ticket_id)
    return tickets, [row["version"] for row in versions]


async def test_events_applied_twice_leave_one_ticket_and_one_entry_each(
    read_model: PostgresReadModel, query_pool: asyncpg.Pool, tenant: str
) -> None:
    story = TicketStory(account(tenant))
    agent = account(tenant, Role.AGENT)
    events = [story.opened(), story.reply(agent), story.status_change(agent, Status.ANSWERED)]

    first = await read_model.apply(changes(*events))
    second = await read_model.apply(changes(*events))

    assert first == [Decision.APPLY] * 3
    assert second == [Decision.DUPLICATE] * 3
    assert await counts(query_pool, story.ticket_id) == (1, [1, 2, 3])


async def test_an_event_ahead_of_its_ticket_is_a_gap_and_applies_nothing_until_the_missing_one_comes(
    read_model: PostgresReadModel, query_pool: asyncpg.Pool, tenant: str
) -> None:
    story = TicketStory(account(tenant))
    agent = account(tenant, Role.AGENT)
    opened, reply, answered = story.opened(), story.reply(agent), story.status_change(agent, Status.ANSWERED)
    await read_model.apply(changes(opened))

    early = await read_model.apply(changes(answered))
    assert early == [Decision.GAP]
    assert await counts(query_pool, story.ticket_id) == (1, [1])

    in_order = await read_model.apply(changes(reply, answered))
    assert in_order == [Decision.APPLY, Decision.APPLY]
    status, version = await query_pool.fetchrow(
        "SELECT status, version FROM tickets WHERE ticket_id = $1", story.ticket_id
    )
    assert (status, version) == ("answered", 3)
    assert await counts(query_pool, story.ticket_id) == (1, [1, 2, 3])


async def test_an_event_whose_data_the_database_refuses_is_rejected_alone(
    read_model: PostgresReadModel, query_pool: asyncpg.Pool, tenant: str
) -> None:
    good, bad = TicketStory(account(tenant)), TicketStory(account(tenant))
    refused = bad.opened().model_copy(update={"number": 2**70})

    outcomes = await read_model.apply(changes(good.opened(), refused))

    assert outcomes[0] is Decision.APPLY
    assert isinstance(outcomes[1], Rejected)
    assert await counts(query_pool, good.ticket_id) == (1, [1])
    assert await counts(query_pool, bad.ticket_id) == (0, [])


async def test_replicas_applying_the_same_events_at_once_apply_each_once(query_pool: asyncpg.Pool, tenant: str) -> None:
    replicas = [PostgresReadModel(query_pool, notify_channel="unheard") for _ in range(4)]
    stories = [TicketStory(account(tenant)) for _ in range(6)]
    agent = account(tenant, Role.AGENT)
    events = [e for s in stories for e in (s.opened(), s.reply(agent), s.status_change(agent, Status.ANSWERED))]

    results = await asyncio.gather(*(replica.apply(changes(*events)) for replica in replicas))

    assert sum(outcome is Decision.APPLY for outcomes in results for outcome in outcomes) == len(events)
    for story in stories:
        assert await counts(query_pool, story.ticket_id) == (1, [1, 2, 3])


async def test_a_reader_waiting_on_a_ticket_is_woken_when_its_version_moves(
    read_model: PostgresReadModel, database_url: str, tenant: str
) -> None:
    story = TicketStory(account(tenant))
    notices = PostgresVersionNotices(database_url, channel=notify_channel("query"))
    notices.start()
    try:
        await asyncio.wait_for(notices.listening.wait(), timeout=10)
        with notices.watch(story.ticket_id) as changed:
            await read_model.apply(changes(story.opened()))

            await asyncio.wait_for(changed.wait(), timeout=10)
    finally:
        await notices.close()


async def test_the_schema_can_be_created_again_while_in_use(query_pool: asyncpg.Pool) -> None:
    await asyncio.gather(*(ensure_schema(query_pool, "query") for _ in range(3)))

    assert await query_pool.fetchval("SELECT count(*) FROM tickets WHERE tenant = 'nobody'") == 0


async def test_a_ticket_view_holds_the_timeline_up_to_its_version(read_model: PostgresReadModel, tenant: str) -> None:
    customer = account(tenant)
    story = TicketStory(customer)
    await read_model.apply(changes(story.opened(), story.reply(customer, "Any news?")))

    view = await read_model.ticket_view(reach_of(customer), story.ticket_id, newest_first=True)

    assert view is not None
    assert view.ticket.version == 2
    assert [entry.version for entry in view.timeline] == [2, 1]


async def test_counts_beyond_the_cap_are_lower_bounds_unless_the_tallies_answer(
    read_model: PostgresReadModel, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ticket_counts, "COUNT_CAP", 3)
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    stories = [TicketStory(customer) for _ in range(5)]
    await read_model.apply(changes(*(story.opened(tags=("vip",)) for story in stories)))
    await read_model.apply(changes(stories[0].status_change(agent, Status.ANSWERED)))

    tallied = await read_model.count_tickets(reach_of(agent), filters=TicketFilter(archived=False))
    beyond = await read_model.count_tickets(reach_of(agent), filters=TicketFilter(tags=frozenset({"vip"})))
    own = await read_model.count_tickets(reach_of(customer), filters=TicketFilter())
    within = await read_model.count_tickets(
        reach_of(customer), filters=TicketFilter(statuses=frozenset({Status.ANSWERED}))
    )

    assert tallied.total == Tally(5)
    assert tallied.statuses == {Status.OPEN: Tally(4), Status.ANSWERED: Tally(1)}
    assert beyond.total == own.total == Tally(3, exact=False)  # "3+": at least that many
    assert all(not tally.exact for tally in (*beyond.statuses.values(), *own.departments.values()))
    assert within == TicketCounts(
        statuses={Status.ANSWERED: Tally(1)}, departments={"Technical Support": Tally(1)}, total=Tally(1)
    )
