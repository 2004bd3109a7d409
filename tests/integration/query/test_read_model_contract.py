"""The in-memory fake and the PostgreSQL read model keep the same promises: one suite runs against both."""

from datetime import timedelta
from uuid import UUID

import pytest
from hostdesk_contracts.access import reach_of
from hostdesk_contracts.base import Actor, Channel, Priority, Role, Status, Visibility
from hostdesk_contracts.events import TicketEvent
from hostdesk_devtools.stories import TicketStory, account, every_kind_of_event
from hostdesk_query.adapters.memory import InMemoryReadModel
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.domain.cursor import PageCursor
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.listing import ASSIGNED_TO_SOMEONE, AssignedTo, ListOrder, Period, TicketFilter, sort_key
from hostdesk_query.domain.model import EntryKind, PostedFile
from hostdesk_query.domain.projection import change_of

from tests.unit.query.files import attached, attachment_of

ReadModel = InMemoryReadModel | PostgresReadModel


@pytest.fixture(params=["memory", "postgres"])
def model(request: pytest.FixtureRequest) -> ReadModel:
    if request.param == "memory":
        return InMemoryReadModel()
    postgres: PostgresReadModel = request.getfixturevalue("read_model")
    return postgres


async def apply(model: ReadModel, *events: TicketEvent) -> list[object]:
    return list(await model.apply([change_of(event) for event in events]))  # type: ignore[arg-type]


async def test_each_event_applies_once_whatever_the_order(model: ReadModel, tenant: str) -> None:
    story = TicketStory(account(tenant))
    agent = account(tenant, Role.AGENT)
    opened, reply, held = story.opened(), story.reply(agent), story.status_change(agent, Status.ON_HOLD)

    outcomes = await apply(model, held, opened, reply, opened, held)

    assert outcomes == [Decision.GAP, Decision.APPLY, Decision.APPLY, Decision.DUPLICATE, Decision.APPLY]


async def test_pages_walk_through_every_readable_ticket_newest_first(model: ReadModel, tenant: str) -> None:
    customer = account(tenant)
    stories = [TicketStory(customer, start=TicketStory(customer).start + timedelta(minutes=i)) for i in range(7)]
    await apply(model, *(story.opened() for story in stories))
    await apply(model, TicketStory(account(tenant)).opened())
    scope = reach_of(customer)

    seen, after = [], None
    while page := await model.list_tickets(scope, filters=TicketFilter(), after=after, limit=3):
        seen += [ticket.ticket_id for ticket in page]
        after = PageCursor(ListOrder.UPDATED, sort_key(ListOrder.UPDATED, page[-1]))

    assert seen == [story.ticket_id for story in reversed(stories)]


async def test_tickets_updated_at_the_same_moment_are_paged_by_id(model: ReadModel, tenant: str) -> None:
    customer = account(tenant)
    stories = [TicketStory(customer) for _ in range(5)]
    await apply(model, *(story.opened() for story in stories))
    scope = reach_of(customer)

    first = await model.list_tickets(scope, filters=TicketFilter(), after=None, limit=2)
    rest = await model.list_tickets(
        scope,
        filters=TicketFilter(),
        after=PageCursor(ListOrder.UPDATED, sort_key(ListOrder.UPDATED, first[-1])),
        limit=10,
    )

    assert [t.ticket_id for t in first + rest] == sorted((s.ticket_id for s in stories), reverse=True)


async def test_the_list_keeps_only_the_statuses_asked_for(model: ReadModel, tenant: str) -> None:
    agent = account(tenant, Role.AGENT)
    held, other = TicketStory(account(tenant)), TicketStory(account(tenant))
    await apply(model, held.opened(), other.opened(), held.status_change(agent, Status.ON_HOLD))

    page = await model.list_tickets(
        reach_of(agent), filters=TicketFilter(statuses=frozenset({Status.ON_HOLD})), after=None, limit=10
    )

    assert [ticket.ticket_id for ticket in page] == [held.ticket_id]


async def test_a_requester_reads_its_ticket_without_internal_notes(model: ReadModel, tenant: str) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story = TicketStory(customer)
    await apply(model, story.opened(), story.reply(agent, "Internal.", visibility=Visibility.INTERNAL))

    view = await model.ticket_view(reach_of(customer), story.ticket_id, newest_first=False)

    assert view is not None
    assert view.ticket.version == 2
    assert [entry.version for entry in view.timeline] == [1]


async def test_nobody_reads_a_ticket_outside_their_scope(model: ReadModel, tenant: str) -> None:
    story = TicketStory(account(tenant))
    await apply(model, story.opened())

    for stranger in (account(tenant), account(f"{tenant}-x", Role.AGENT)):
        assert await model.ticket_view(reach_of(stranger), story.ticket_id, newest_first=False) is None
        assert await model.list_tickets(reach_of(stranger), filters=TicketFilter(), after=None, limit=10) == []


async def test_the_list_keeps_only_the_tickets_each_filter_asks_for(model: ReadModel, tenant: str) -> None:
    agent = account(tenant, Role.AGENT)
    plain, urgent, archived, assigned = (TicketStory(account(tenant)) for _ in range(4))
    await apply(model, *(story.opened() for story in (plain, urgent, archived, assigned)))
    await apply(
        model,
        urgent.priority_change(agent, Priority.URGENT),
        archived.status_change(agent, Status.RESOLVED),
        archived.archive(agent),
        assigned.assign(agent, agent),
    )

    async def kept(**conditions: object) -> set[UUID]:
        filters = TicketFilter(**conditions)  # type: ignore[arg-type]
        return {t.ticket_id for t in await model.list_tickets(reach_of(agent), filters=filters, after=None, limit=10)}

    assert await kept(priorities=frozenset({Priority.URGENT, Priority.HIGH})) == {urgent.ticket_id}
    assert await kept(archived=True) == {archived.ticket_id}
    assert await kept(archived=False) == {plain.ticket_id, urgent.ticket_id, assigned.ticket_id}
    assert await kept(assignee=AssignedTo(agent.account_id)) == {assigned.ticket_id}
    assert await kept(assignee=AssignedTo(None)) == {plain.ticket_id, urgent.ticket_id, archived.ticket_id}
    assert await kept(assignee=AssignedTo(None), archived=False, statuses=frozenset({Status.OPEN})) == {
        plain.ticket_id,
        urgent.ticket_id,
    }
    assert await kept(assignee=ASSIGNED_TO_SOMEONE) == {assigned.ticket_id}


async def test_the_list_keeps_the_tickets_of_each_field_asked_for(model: ReadModel, tenant: str) -> None:
    agent = account(tenant, Role.AGENT)
    customer = account(tenant)
    billing, tagged, mailed = (TicketStory(customer) for _ in range(3))
    billing.department = "Billing"
    late_start = billing.start + timedelta(days=3)
    late = TicketStory(customer, start=late_start)
    opened = [
        billing.opened(category="Invoices"),
        tagged.opened(),
        mailed.opened().model_copy(update={"channel": Channel.EMAIL}),
        late.opened(),
    ]
    other = TicketStory(account(tenant))
    await apply(model, *opened, other.opened(), tagged.tags_change(agent, ("vip", "dns")))

    async def kept(**conditions: object) -> set[UUID]:
        filters = TicketFilter(**conditions)  # type: ignore[arg-type]
        return {t.ticket_id for t in await model.list_tickets(reach_of(agent), filters=filters, after=None, limit=10)}

    assert await kept(departments=frozenset({"Billing", "Sales"})) == {billing.ticket_id}
    assert await kept(categories=frozenset({"Invoices"})) == {billing.ticket_id}
    assert await kept(tags=frozenset({"vip"})) == {tagged.ticket_id}
    assert await kept(tags=frozenset({"vip", "dns"})) == {tagged.ticket_id}
    assert await kept(tags=frozenset({"vip", "mail"})) == set()
    assert await kept(channels=frozenset({Channel.EMAIL})) == {mailed.ticket_id}
    assert await kept(requesters=frozenset({other.requester.account_id})) == {other.ticket_id}
    assert await kept(requesters=frozenset()) == set()
    assert await kept(created=Period(since=late_start)) == {late.ticket_id}
    assert await kept(created=Period(until=late_start), requesters=frozenset({customer.account_id})) == {
        billing.ticket_id,
        tagged.ticket_id,
        mailed.ticket_id,
    }
    assert late.ticket_id in await kept(updated=Period(since=late_start, until=late_start + timedelta(seconds=2)))


@pytest.mark.parametrize("order", list(ListOrder))
async def test_pages_of_every_order_walk_through_every_ticket_once_in_order(
    model: ReadModel, tenant: str, order: ListOrder
) -> None:
    agent = account(tenant, Role.AGENT)
    start = TicketStory(account(tenant)).start
    stories = [TicketStory(account(tenant), start=start + timedelta(minutes=i % 4)) for i in range(11)]
    priorities = list(Priority)
    await apply(model, *(story.opened() for story in stories))
    await apply(model, *(s.priority_change(agent, priorities[i % 4]) for i, s in enumerate(stories) if i % 4 != 1))
    every = await model.list_tickets(reach_of(agent), filters=TicketFilter(), order=order, limit=100)

    seen, after = [], None
    while page := await model.list_tickets(reach_of(agent), filters=TicketFilter(), order=order, after=after, limit=3):
        seen += page
        after = PageCursor(order, sort_key(order, page[-1]))

    keys = [sort_key(order, ticket) for ticket in seen]
    descending = order is not ListOrder.PRIORITY
    assert keys == sorted(keys, reverse=descending)  # type: ignore[type-var]
    assert [t.ticket_id for t in seen] == [t.ticket_id for t in every]
    assert {t.ticket_id for t in seen} == {s.ticket_id for s in stories}
    if order is ListOrder.PRIORITY:
        assert [t.priority for t in seen[:3]] == [Priority.URGENT, Priority.URGENT, Priority.HIGH]
        assert seen[0].created_at <= seen[1].created_at  # of one priority, the longest waiting first


async def test_a_timeline_comes_in_time_order_with_merged_posts_in_place(model: ReadModel, tenant: str) -> None:
    lifecycle = every_kind_of_event(tenant)
    await apply(model, *lifecycle.events)

    for newest_first in (False, True):
        view = await model.ticket_view(reach_of(lifecycle.agent), lifecycle.target.ticket_id, newest_first=newest_first)

        assert view is not None
        keys = [(entry.occurred_at, entry.version, entry.part) for entry in view.timeline]
        assert keys == sorted(keys, reverse=newest_first)
        assert sum(entry.kind is EntryKind.MERGED_POST for entry in view.timeline) == len(lifecycle.source.posts)


async def test_a_posts_file_is_found_only_for_a_caller_who_sees_the_post(model: ReadModel, tenant: str) -> None:
    customer, agent, outsider = account(tenant), account(tenant, Role.AGENT), account(tenant)
    story = TicketStory(customer)
    shot, note_file = attachment_of(b"png"), attachment_of(b"note", name="n.txt", media_type="text/plain")
    await apply(
        model,
        attached(story.opened(), shot),
        attached(story.reply(agent, "Inside", visibility=Visibility.INTERNAL), note_file),
    )

    async def found(caller: Actor, file_id: str) -> PostedFile | None:
        return await model.posted_file(reach_of(caller), story.ticket_id, file_id)

    assert await found(customer, shot.id) == PostedFile(tenant=tenant, ticket_id=story.ticket_id, attachment=shot)
    assert await found(agent, note_file.id) == PostedFile(
        tenant=tenant, ticket_id=story.ticket_id, attachment=note_file
    )
    assert await found(agent, shot.id) is not None
    assert await found(customer, note_file.id) is None
    assert await found(outsider, shot.id) is None
    assert await found(customer, f"att_{'0' * 32}") is None


async def test_files_read_back_on_their_entries_for_each_side(model: ReadModel, tenant: str) -> None:
    customer, agent = account(tenant), account(tenant, Role.AGENT)
    story = TicketStory(customer)
    shot, reply_file, note_file = attachment_of(b"1"), attachment_of(b"2"), attachment_of(b"3")
    await apply(
        model,
        attached(story.opened(), shot),
        attached(story.reply(agent), reply_file),
        attached(story.reply(agent, "Inside", visibility=Visibility.INTERNAL), note_file),
    )

    requester_view = await model.ticket_view(reach_of(customer), story.ticket_id, newest_first=False)
    staff_view = await model.ticket_view(reach_of(agent), story.ticket_id, newest_first=False)

    assert requester_view is not None
    assert staff_view is not None
    assert [entry.attachments for entry in requester_view.timeline] == [(shot,), (reply_file,)]
    assert [entry.attachments for entry in staff_view.timeline] == [(shot,), (reply_file,), (note_file,)]
