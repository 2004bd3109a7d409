from datetime import UTC, datetime

import pytest
from hostdesk_contracts.base import Status
from hostdesk_query.domain.counting import Tally, TicketCounts, counted, tallied
from hostdesk_query.domain.listing import ASSIGNED_TO_SOMEONE, AssignedTo, Period, TicketFilter


def test_counts_add_up_and_a_lower_bound_stays_one() -> None:
    exact = counted([(Status.OPEN, "Billing", 2), (Status.CLOSED, None, 1)])
    bound = counted([(Status.OPEN, None, 1)], exact=False)

    both = exact + bound

    assert both.total == Tally(4, exact=False)
    assert both.statuses == {Status.OPEN: Tally(3, exact=False), Status.CLOSED: Tally(1)}
    assert both.departments == {"Billing": Tally(2), None: Tally(2, exact=False)}


def test_taking_away_what_another_count_holds_never_goes_below_nothing_and_drops_what_is_left_empty() -> None:
    left = counted([(Status.OPEN, "Billing", 2)]) - counted([(Status.OPEN, "Billing", 2), (Status.ANSWERED, None, 1)])

    assert left == TicketCounts(total=Tally(0))


@pytest.mark.parametrize(
    ("ticket_filter", "answered"),
    [
        (TicketFilter(statuses=frozenset({Status.OPEN}), archived=False, departments=frozenset({"Billing"})), True),
        (TicketFilter(assignee=AssignedTo(None)), True),
        (TicketFilter(assignee=ASSIGNED_TO_SOMEONE), True),
        (TicketFilter(assignee=AssignedTo("agent-1")), False),
        (TicketFilter(tags=frozenset({"vip"})), False),
        (TicketFilter(requesters=frozenset({"customer-1"})), False),
        (TicketFilter(created=Period(since=datetime(2026, 1, 1, tzinfo=UTC))), False),
    ],
)
def test_the_tallies_answer_filters_on_their_own_fields_only(ticket_filter: TicketFilter, answered: bool) -> None:
    assert tallied(ticket_filter) is answered
