"""The read model's SQL says what ``Reach.side`` says: over a grid of tickets (requesters, handling organisations,
departments, assignees) and of callers (every kind, limited to departments or not), a list holds exactly the
tickets the rule lets the caller see (with a filter on the assignee, exactly those it handles), its counts count
exactly those, and a ticket's view answers exactly for those."""

from __future__ import annotations

import itertools
import uuid

import asyncpg
from hostdesk_contracts.access import Reach, reach_of
from hostdesk_contracts.base import Actor, Priority, Role, Status, Visibility
from hostdesk_devtools.stories import TicketStory
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.adapters.ticket_sql import list_query
from hostdesk_query.domain.counting import counted
from hostdesk_query.domain.listing import ASSIGNED_TO_SOMEONE, AssignedTo, ListOrder, TicketFilter
from hostdesk_query.domain.projection import change_of, plan_batch
from hostdesk_query.domain.search import search_of
from hostdesk_query.domain.visibility import handles, listed, side_on

DEPARTMENTS = ("Billing", "Technical Support", None)


def actor(tenant: str, account_id: str, role: Role, organisation_id: str | None = None) -> Actor:
    """The one place this module makes a caller."""
    return Actor(account_id=account_id, tenant=tenant, role=role, organisation_id=organisation_id)


def grid_tickets(tenant: str, ids: dict[str, str]) -> list[tuple[TicketStory, list[object]]]:
    """A ticket for every requester x handling organisation (None: from before the directory) x department, some
    assigned to the agent of the reseller."""
    requesters = [ids["reseller"], ids["customer"], ids["subaccount"], ids["agent"]]
    handlers = [None, tenant, ids["reseller"], ids["customer"], ids["other"]]
    made = []
    for number, (requester, handler, department) in enumerate(itertools.product(requesters, handlers, DEPARTMENTS)):
        story = TicketStory(Actor(account_id=requester, tenant=tenant, role=Role.CUSTOMER), number=100_000 + number)
        story.department = department
        events: list[object] = [story.opened().model_copy(update={"handling_organisation_id": handler})]
        agent = Actor(account_id=ids["agent"], tenant=tenant, role=Role.AGENT)
        if number % 2:
            events.append(story.assign(agent, agent))
        if number % 3 == 0:
            events.append(story.tags_change(agent, ("grid",)))
        if number % 4 == 0:
            events.append(story.reply(agent, "Zanzibar holds the root password.", visibility=Visibility.INTERNAL))
        made.append((story, events))
    return made


def grid_reaches(tenant: str, ids: dict[str, str]) -> list[Reach]:
    callers = [
        actor(tenant, tenant, Role.PROVIDER),
        actor(tenant, "p-agent", Role.AGENT, tenant),
        actor(tenant, "p-agent-legacy", Role.SUPERVISOR),  # staff naming no organisation: the tenant's provider's
        actor(tenant, ids["reseller"], Role.RESELLER),
        actor(tenant, ids["agent"], Role.AGENT, ids["reseller"]),
        actor(tenant, ids["customer"], Role.CUSTOMER),
        actor(tenant, ids["subaccount"], Role.SUBACCOUNT),
        actor(tenant, "nobody", Role.CUSTOMER),
        actor("another-tenant", ids["reseller"], Role.RESELLER),
    ]
    staff = [caller for caller in callers if caller.role.is_staff]
    limited = [reach_of(caller, departments=limit) for caller in staff for limit in (["Billing"], [])]
    return [reach_of(caller) for caller in callers] + limited


async def test_every_list_and_view_holds_exactly_what_the_rule_lets_each_caller_see(
    read_model: PostgresReadModel, tenant: str
) -> None:
    ids = {name: f"{name}-{uuid.uuid4().hex[:6]}" for name in ("reseller", "customer", "subaccount", "agent", "other")}
    made = grid_tickets(tenant, ids)
    changes = [change_of(event) for _, events in made for event in events]  # type: ignore[arg-type]
    await read_model.apply(changes)
    records = {ticket.ticket_id: ticket for ticket in plan_batch({}, changes).created}  # as the read model has them
    noted = {story.ticket_id for story, _ in made if story.number % 4 == 0}  # with an internal note
    filters = [
        TicketFilter(),
        TicketFilter(assignee=AssignedTo(None)),
        TicketFilter(assignee=AssignedTo(ids["agent"])),
        TicketFilter(assignee=ASSIGNED_TO_SOMEONE),
        TicketFilter(tags=frozenset({"grid"})),
        TicketFilter(departments=frozenset({"Billing"})),
        TicketFilter(requesters=frozenset({ids["customer"], ids["subaccount"]})),
        TicketFilter(statuses=frozenset({Status.OPEN}), archived=False, priorities=frozenset(Priority)),
        TicketFilter(departments=frozenset({"Billing"}), assignee=ASSIGNED_TO_SOMEONE),
    ]

    for reach in grid_reaches(tenant, ids):
        for ticket_filter, order in itertools.product(filters, ListOrder):
            found = await read_model.list_tickets(reach, filters=ticket_filter, order=order, limit=len(made) + 1)
            expected = {ticket.ticket_id for ticket in records.values() if listed(reach, ticket_filter, ticket)}
            assert sorted(ticket.ticket_id for ticket in found) == sorted(expected), (reach, ticket_filter)  # each once
        for ticket_filter in filters:
            kept = [ticket for ticket in records.values() if listed(reach, ticket_filter, ticket)]
            expected_counts = counted((ticket.status, ticket.department, 1) for ticket in kept)
            assert await read_model.count_tickets(reach, filters=ticket_filter) == expected_counts, (
                reach,
                ticket_filter,
            )
        holding = {  # the tickets holding the words, and the side that reads them there
            "vps answering": set(records),  # the subject and the opening post
            "zanzibar": {i for i in noted if handles(reach, records[i])},  # an internal note
        }
        for ticket_filter, (words, held) in itertools.product(filters, holding.items()):
            expected = {i for i in held if listed(reach, ticket_filter, records[i])}
            result = await read_model.search_tickets(reach, search_of(words), filters=ticket_filter, limit=len(made))
            assert {hit.ticket.ticket_id for hit in result.hits} == expected, (reach, ticket_filter, words)
            shown = [hit.snippet_html or "" for hit in result.hits if not handles(reach, hit.ticket)]
            assert not any("Zanzibar" in snippet for snippet in shown)
        for story, _ in made:
            view = await read_model.ticket_view(reach, story.ticket_id, newest_first=False)
            assert (view is not None) == (side_on(reach, records[story.ticket_id]) is not None), reach
            assert view is None or view.ticket == records[story.ticket_id]


async def test_a_list_by_handling_organisation_reads_its_index(query_pool: asyncpg.Pool, tenant: str) -> None:
    reach = reach_of(actor(tenant, "a-reseller", Role.RESELLER))
    query = list_query(reach, TicketFilter(assignee=AssignedTo(None)), ListOrder.UPDATED, None, 25)
    assert query is not None
    sql, args = query

    # On a table of a few rows every index costs the planner about the same, and it may pick another that the list
    # filters through: what matters is that this index serves the list at all (at a million tickets the planner
    # then prefers it). So, in a transaction rolled back, the table's other indexes are set aside.
    async with query_pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            await connection.execute("SET LOCAL enable_seqscan = off")
            others = await connection.fetch(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'tickets'"
                " AND indexname NOT IN ('tickets_by_handler', 'tickets_pkey')"
            )
            for other in others:
                await connection.execute(f'DROP INDEX "{other["indexname"]}"')
            plan = "\n".join(row[0] for row in await connection.fetch(f"EXPLAIN {sql}", *args))
        finally:
            await transaction.rollback()

    assert "tickets_by_handler" in plan, plan
