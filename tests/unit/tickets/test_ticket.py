"""Given / when / then: every status transition of the ticket aggregate."""

from __future__ import annotations

import pytest
from hostdesk_contracts.base import Status, Visibility
from hostdesk_tickets.domain.errors import StaleVersion, TicketNotFound, TransitionForbidden
from hostdesk_tickets.domain.ticket import Ticket

from .builders import CUSTOMER, FOREIGN_STAFF, OTHER_CUSTOMER, STAFF, close, opened_ticket, reply


def event_names(ticket: Ticket) -> list[str]:
    return [type(event).__name__ for event in ticket.collect_events()]


def test_a_new_ticket_is_open_at_version_one() -> None:
    ticket = opened_ticket()

    assert ticket.status is Status.OPEN
    assert ticket.version == 1
    assert ticket.number == 482913


def test_a_staff_public_reply_makes_the_ticket_answered() -> None:
    ticket = opened_ticket()

    ticket.reply(reply(ticket, STAFF))

    assert ticket.status is Status.ANSWERED
    assert event_names(ticket)[1:] == ["ReplyPosted", "StatusChanged"]


def test_a_customer_reply_to_an_answered_ticket_waits_for_staff_again() -> None:
    ticket = opened_ticket()
    ticket.reply(reply(ticket, STAFF))

    ticket.reply(reply(ticket, CUSTOMER))

    assert ticket.status is Status.CUSTOMER_REPLY


def test_a_customer_reply_to_an_open_ticket_marks_it_customer_reply() -> None:
    ticket = opened_ticket()

    ticket.reply(reply(ticket, CUSTOMER))

    assert ticket.status is Status.CUSTOMER_REPLY


def test_a_second_staff_reply_records_no_second_status_change() -> None:
    ticket = opened_ticket()
    ticket.reply(reply(ticket, STAFF))

    ticket.reply(reply(ticket, STAFF))

    assert event_names(ticket)[1:] == ["ReplyPosted", "StatusChanged", "ReplyPosted"]


def test_an_internal_note_changes_no_status() -> None:
    ticket = opened_ticket()
    ticket.reply(reply(ticket, STAFF))

    ticket.reply(reply(ticket, STAFF, visibility=Visibility.INTERNAL))

    assert ticket.status is Status.ANSWERED
    assert event_names(ticket)[-1] == "ReplyPosted"


def test_an_internal_note_on_a_closed_ticket_does_not_reopen_it() -> None:
    ticket = opened_ticket()
    ticket.close(close(ticket, STAFF))

    ticket.reply(reply(ticket, STAFF, visibility=Visibility.INTERNAL))

    assert ticket.status is Status.CLOSED


def test_the_requester_cannot_write_internal_notes() -> None:
    ticket = opened_ticket()

    with pytest.raises(TransitionForbidden):
        ticket.reply(reply(ticket, CUSTOMER, visibility=Visibility.INTERNAL))
    assert ticket.version == 1


def test_either_side_may_close_a_ticket() -> None:
    by_customer, by_staff = opened_ticket(), opened_ticket()

    by_customer.close(close(by_customer, CUSTOMER))
    by_staff.close(close(by_staff, STAFF))

    assert by_customer.status is Status.CLOSED
    assert by_staff.status is Status.CLOSED


def test_closing_a_closed_ticket_is_refused_naming_its_status() -> None:
    ticket = opened_ticket()
    ticket.close(close(ticket, CUSTOMER))

    with pytest.raises(TransitionForbidden) as refused:
        ticket.close(close(ticket, STAFF))

    assert refused.value.current_status is Status.CLOSED


def test_a_customer_reply_to_a_closed_ticket_reopens_it_as_open() -> None:
    ticket = opened_ticket()
    ticket.close(close(ticket, STAFF))

    ticket.reply(reply(ticket, CUSTOMER))

    assert ticket.status is Status.OPEN
    assert event_names(ticket)[-2:] == ["Reopened", "ReplyPosted"]


def test_a_staff_reply_to_a_closed_ticket_reopens_it_and_answers_it() -> None:
    ticket = opened_ticket()
    ticket.close(close(ticket, CUSTOMER))

    ticket.reply(reply(ticket, STAFF))

    assert ticket.status is Status.ANSWERED
    assert event_names(ticket)[-3:] == ["Reopened", "ReplyPosted", "StatusChanged"]


def test_a_command_applied_twice_changes_nothing_the_second_time() -> None:
    ticket = opened_ticket()
    command = reply(ticket, STAFF)
    ticket.reply(command)
    version = ticket.version

    ticket.reply(command)
    ticket.close(close(ticket, CUSTOMER, command_id=command.command_id))

    assert ticket.version == version
    assert ticket.applied[command.command_id] == version


def test_another_customer_cannot_see_the_ticket() -> None:
    ticket = opened_ticket()

    with pytest.raises(TicketNotFound):
        ticket.reply(reply(ticket, OTHER_CUSTOMER))


def test_staff_of_another_tenant_cannot_see_the_ticket() -> None:
    ticket = opened_ticket()

    with pytest.raises(TicketNotFound):
        ticket.close(close(ticket, FOREIGN_STAFF))


def test_a_stale_expected_version_is_refused_with_the_current_version() -> None:
    ticket = opened_ticket()
    ticket.reply(reply(ticket, STAFF))

    with pytest.raises(StaleVersion) as refused:
        ticket.reply(reply(ticket, CUSTOMER, expected_version=1))

    assert refused.value.current_version == 3


def test_the_ticket_rebuilt_from_its_events_equals_the_live_one() -> None:
    ticket = opened_ticket()
    ticket.reply(reply(ticket, STAFF))
    ticket.reply(reply(ticket, CUSTOMER))
    ticket.close(close(ticket, STAFF))

    rebuilt = None
    for event in ticket.collect_events():
        rebuilt = event.mutate(rebuilt)

    assert rebuilt is not None
    assert vars(rebuilt) == vars(ticket)
