"""Given / when / then: a department that takes turns gives each new ticket nobody else is named for to its next
available agent, once (an in-memory directory, event store and turn counter)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostdesk_tickets.adapters.round_robin import CountingTurns
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import at_once, handle, handle_batch
from .test_addressing import CUST_P, CUST_R, open_as, opened, tree


@pytest.fixture
def turns() -> CountingTurns:
    return CountingTurns()


@pytest.fixture
def app(turns: CountingTurns) -> Iterator[TicketsApplication]:
    application = TicketsApplication(
        numbers=CountingNumbers(), turns=turns, env={"PERSISTENCE_MODULE": "eventsourcing.popo"}
    )
    yield application
    application.close()


def assignee_of(ticket: Ticket) -> str | None:
    return None if ticket.assignee is None else str(ticket.assignee["account_id"])


def test_new_tickets_of_a_round_robin_department_go_to_its_available_agents_in_turn(app: TicketsApplication) -> None:
    directory = tree()  # Web: agents web-a, web-b, web-c; web-off disabled, web-lead a supervisor

    commands = [opened(app, directory, CUST_P, department="Web") for _ in range(7)]

    assignees = [assignee_of(app.get_ticket(command.ticket_id)) for command in commands]
    assert assignees == ["web-a", "web-b", "web-c", "web-a", "web-b", "web-c", "web-a"]


def test_a_batch_of_opens_takes_its_turns_in_order(app: TicketsApplication, turns: CountingTurns) -> None:
    commands = [open_as(CUST_P, department="Web") for _ in range(4)]

    results = handle_batch(app, commands, tree())

    assert all(getattr(result, "result", None) == "committed" for result in results)
    assert [assignee_of(app.get_ticket(c.ticket_id)) for c in commands] == ["web-a", "web-b", "web-c", "web-a"]
    assert turns.taken["acme", "Web"] == 4


def test_a_batch_decided_again_after_a_conflict_keeps_the_turns_it_drew(
    app: TicketsApplication, turns: CountingTurns
) -> None:
    directory = tree()
    first = opened(app, directory, CUST_P, department="Web")  # web-a
    batch = [open_as(CUST_P, department="Web"), first, open_as(CUST_P, department="Web")]

    handle_batch(app, batch, directory)  # the open delivered again makes the batch's save conflict

    # Decided one by one, each open keeps the turn it drew in the batch (2, 3 and 4; not 5, 6 and 7): the open
    # delivered again drew turn 3 (web-c) and did not take it, its ticket being stored already with web-a.
    assert [assignee_of(app.get_ticket(c.ticket_id)) for c in batch] == ["web-b", "web-a", "web-a"]
    assert turns.taken["acme", "Web"] == 4


def test_a_ticket_routed_by_its_category_or_outside_a_round_robin_department_takes_no_turn(
    app: TicketsApplication, turns: CountingTurns
) -> None:
    directory = tree()

    by_category = opened(app, directory, CUST_P, department="Web", category="Migrations")
    elsewhere = opened(app, directory, CUST_P, department="Billing")
    to_reseller = opened(app, directory, CUST_R)

    assert assignee_of(app.get_ticket(by_category.ticket_id)) == "agent-2"
    assert assignee_of(app.get_ticket(elsewhere.ticket_id)) is None
    assert assignee_of(app.get_ticket(to_reseller.ticket_id)) is None
    assert turns.round_trips == 0


def test_a_round_robin_department_without_available_agents_opens_unassigned(app: TicketsApplication) -> None:
    directory = tree()
    for name in "abc":
        agent = at_once(directory.principal(f"web-{name}"))
        assert agent is not None
        directory.put(agent.model_copy(update={"disabled": True, "version": 2}))

    command = open_as(CUST_P, department="Web")
    outcome = handle(app, command, directory)

    assert outcome.result == "committed"
    assert assignee_of(app.get_ticket(command.ticket_id)) is None
