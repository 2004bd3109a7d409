"""When an answered ticket closes by itself: the deadlines a ticket's own events set, move and lift."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hostdesk_contracts.base import Priority, Role, Status, Visibility
from hostdesk_contracts.commands import ChangeStatus, MergeTicket, PostReply, UpdateTicket
from hostdesk_contracts.events import TicketClosed, TicketEvent
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.domain.deadlines import (
    Deadline,
    Lifted,
    Renewed,
    auto_close_command,
    deadline_changes,
    idle_time_in_words,
)
from hostdesk_tickets.domain.errors import TransitionForbidden
from hostdesk_tickets.domain.ticket import Ticket

from .builders import CUSTOMER, NOW, STAFF, close, command, open_command, open_ticket, opened_ticket, reply

WEEK = timedelta(days=7)


def recorded(ticket: Ticket) -> list[TicketEvent]:
    """The public events of what ``ticket`` recorded since last asked."""
    return [to_public(event) for event in ticket.collect_events()]


def answered(ticket: Ticket) -> TicketEvent:
    """Answer ``ticket`` publicly; the status change it records."""
    ticket.reply(reply(ticket, STAFF))
    return recorded(ticket)[-1]


def waiting(ticket: Ticket, *, since: TicketEvent, version: int) -> Deadline:
    """The deadline of ``ticket`` answered at ``version``, a week after the answer ``since``."""
    return Deadline(ticket_id=ticket.id, tenant="acme", answered_version=version, due_at=since.occurred_at + WEEK)


def test_a_ticket_the_handling_side_opens_to_its_requester_waits_for_it_from_the_opening() -> None:
    to_the_customer = open_command(STAFF).model_copy(update={"requester_id": CUSTOMER.account_id})
    ticket = open_ticket(to_the_customer, number=1)

    (opening,) = recorded(ticket)

    assert deadline_changes([opening], idle=WEEK) == [
        Deadline(ticket_id=ticket.id, tenant="acme", answered_version=1, due_at=opening.occurred_at + WEEK)
    ]
    assert (ticket.status, ticket.answered_version) == (Status.ANSWERED, 1)


def test_an_answer_sets_a_deadline_the_idle_time_after_it_at_the_answering_version() -> None:
    ticket = opened_ticket()
    ticket.reply(reply(ticket, STAFF))
    events = recorded(ticket)

    changes = deadline_changes(events, idle=WEEK)

    answer = events[-1]
    assert changes == [
        Deadline(ticket_id=ticket.id, tenant="acme", answered_version=3, due_at=answer.occurred_at + WEEK)
    ]
    assert ticket.answered_version == 3


def test_a_requester_reply_lifts_the_deadline() -> None:
    ticket = opened_ticket()
    answered(ticket)

    ticket.reply(reply(ticket, CUSTOMER))

    assert deadline_changes(recorded(ticket), idle=WEEK) == [Lifted(ticket_id=ticket.id)]


def test_another_public_answer_moves_the_deadline_to_the_idle_time_after_it() -> None:
    ticket = opened_ticket()
    answered(ticket)

    ticket.reply(reply(ticket, STAFF))
    events = recorded(ticket)

    assert [type(event).__name__ for event in events] == ["ReplyPosted"]  # still answered: no status change
    renewed = Renewed(ticket_id=ticket.id, answered_version=4, due_at=events[0].occurred_at + WEEK)
    assert deadline_changes(events, idle=WEEK) == [renewed]
    assert ticket.answered_version == 4  # the ticket waits on the same answer as its deadline


def test_answers_in_one_run_net_to_one_deadline_at_the_last_answer() -> None:
    ticket = opened_ticket()
    ticket.reply(reply(ticket, STAFF))
    ticket.reply(reply(ticket, STAFF))
    events = recorded(ticket)

    changes = deadline_changes(events, idle=WEEK)

    assert changes == [waiting(ticket, since=events[-1], version=4)]
    assert ticket.answered_version == 4


def test_an_internal_note_leaves_the_deadline_as_it_is() -> None:
    ticket = opened_ticket()
    answered(ticket)

    ticket.reply(reply(ticket, STAFF, visibility=Visibility.INTERNAL))

    assert deadline_changes(recorded(ticket), idle=WEEK) == []


def test_answering_again_after_the_requester_replied_sets_a_new_deadline_at_the_new_version() -> None:
    ticket = opened_ticket()
    answered(ticket)
    ticket.reply(reply(ticket, CUSTOMER))
    ticket.reply(reply(ticket, STAFF))
    events = recorded(ticket)

    changes = deadline_changes(events, idle=WEEK)

    assert changes == [waiting(ticket, since=events[-1], version=7)]


@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED, Status.OPEN])
def test_any_other_status_lifts_the_deadline(status: Status) -> None:
    ticket = opened_ticket()
    answered(ticket)

    ticket.change_status(command(ChangeStatus, ticket, STAFF, status=status))

    assert deadline_changes(recorded(ticket), idle=WEEK) == [Lifted(ticket_id=ticket.id)]


def test_an_answer_that_sets_another_status_lifts_the_deadline_it_would_have_moved() -> None:
    ticket = opened_ticket()
    answered(ticket)

    ticket.reply(command(PostReply, ticket, STAFF, body="Waiting on the datacentre.", status=Status.ON_HOLD))

    assert deadline_changes(recorded(ticket), idle=WEEK) == [Lifted(ticket_id=ticket.id)]


def test_closing_lifts_the_deadline_and_a_reply_reopening_the_ticket_does_not_bring_it_back() -> None:
    ticket = opened_ticket()
    answered(ticket)
    ticket.close(close(ticket, CUSTOMER))
    assert deadline_changes(recorded(ticket), idle=WEEK) == [Lifted(ticket_id=ticket.id)]

    ticket.reply(reply(ticket, CUSTOMER))

    assert deadline_changes(recorded(ticket), idle=WEEK) == [Lifted(ticket_id=ticket.id)]


def test_a_merge_lifts_the_deadline_of_the_merged_ticket() -> None:
    source, target = opened_ticket(), opened_ticket()
    answered(source)

    source.merge_into(command(MergeTicket, source, STAFF, into_ticket_id=target.id), None, target)

    assert deadline_changes(recorded(source), idle=WEEK) == [Lifted(ticket_id=source.id)]


def test_an_answer_after_the_ticket_stopped_waiting_in_the_same_run_moves_nothing() -> None:
    ticket = opened_ticket()
    answered(ticket)
    ticket.change_status(command(ChangeStatus, ticket, STAFF, status=Status.ON_HOLD))
    ticket.reply(command(PostReply, ticket, STAFF, body="Still on it.", status=Status.ON_HOLD))

    assert deadline_changes(recorded(ticket), idle=WEEK) == [Lifted(ticket_id=ticket.id)]


def test_changes_that_do_not_touch_the_wait_change_no_deadline() -> None:
    ticket = opened_ticket()
    ticket.update(command(UpdateTicket, ticket, STAFF, priority=Priority.URGENT, tags=("vps",)))

    assert deadline_changes(recorded(ticket), idle=WEEK) == []


def test_each_ticket_gets_its_own_change() -> None:
    first, second = opened_ticket(), opened_ticket()
    events = [answered(first), answered(second)]
    second.reply(reply(second, CUSTOMER))
    events += recorded(second)

    changes = deadline_changes(events, idle=WEEK)

    assert [(type(change), change.ticket_id) for change in changes] == [(Deadline, first.id), (Lifted, second.id)]


@pytest.mark.parametrize(
    ("idle", "words"),
    [
        (timedelta(days=7), "7 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(hours=36), "36 hours"),
        (timedelta(minutes=90), "90 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(seconds=61), "61 seconds"),
    ],
)
def test_the_idle_time_is_said_in_its_largest_whole_unit(idle: timedelta, words: str) -> None:
    assert idle_time_in_words(idle) == words


def test_the_system_closes_a_ticket_past_its_deadline_once_with_the_reason_recorded() -> None:
    ticket = opened_ticket()
    answer = answered(ticket)
    (deadline,) = deadline_changes([answer], idle=WEEK)
    assert isinstance(deadline, Deadline)

    first = auto_close_command(
        deadline,
        idle=WEEK,
        now=NOW,
    )
    again = auto_close_command(
        deadline,
        idle=WEEK,
        now=NOW + timedelta(minutes=1),
    )
    ticket.auto_close(first)
    ticket.auto_close(again)

    (closed,) = recorded(ticket)
    assert isinstance(closed, TicketClosed)
    assert closed.automatic
    assert closed.reason == "No reply from the requester for 7 days"
    assert closed.actor.role is Role.SYSTEM
    assert first.command_id == again.command_id == f"auto-close:{ticket.id}:3"


def test_the_ticket_refuses_a_close_for_an_answer_it_has_moved_past() -> None:
    ticket = opened_ticket()
    (deadline,) = deadline_changes([answered(ticket)], idle=WEEK)
    assert isinstance(deadline, Deadline)
    ticket.reply(reply(ticket, CUSTOMER))
    answered(ticket)

    with pytest.raises(TransitionForbidden, match="answered again at version 7"):
        ticket.auto_close(auto_close_command(deadline, idle=WEEK, now=NOW))


def test_a_close_for_an_answer_followed_by_another_is_refused() -> None:
    ticket = opened_ticket()
    (deadline,) = deadline_changes([answered(ticket)], idle=WEEK)
    assert isinstance(deadline, Deadline)
    ticket.reply(reply(ticket, STAFF))  # still answered, at a later answer

    with pytest.raises(TransitionForbidden, match="answered again at version 4"):
        ticket.auto_close(auto_close_command(deadline, idle=WEEK, now=NOW))


def test_the_deadline_follows_later_answers_and_ends_with_the_wait() -> None:
    ticket = opened_ticket()
    answer = answered(ticket)
    ticket.reply(reply(ticket, STAFF, visibility=Visibility.INTERNAL))
    ticket.reply(reply(ticket, STAFF))
    since = [answer, *recorded(ticket)]

    moved = deadline_changes(since, idle=WEEK)
    ticket.reply(reply(ticket, CUSTOMER))
    ended = deadline_changes([*since, *recorded(ticket)], idle=WEEK)

    assert moved == [waiting(ticket, since=since[-1], version=5)]
    assert ended == [Lifted(ticket_id=ticket.id)]
