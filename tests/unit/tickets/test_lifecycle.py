"""Given / when / then: the ticket's whole lifecycle beyond replies and closing."""

from __future__ import annotations

import pytest
from hostdesk_contracts.base import Assignee, Priority, Rating, Status, Visibility
from hostdesk_contracts.commands import (
    ArchiveTicket,
    AssignTicket,
    AutoCloseTicket,
    ChangeStatus,
    PostReply,
    RateTicket,
    UpdateTicket,
)
from hostdesk_tickets.domain.errors import StaleVersion, TransitionForbidden
from hostdesk_tickets.domain.ticket import Ticket

from .builders import CUSTOMER, STAFF, SYSTEM, close, command, configuration, opened_ticket, reply, staff_record
from .test_ticket import event_names

SAM = Assignee(account_id="agent-1", display_name="Sam")
KIM = Assignee(account_id="agent-2", display_name="Kim", email="kim@provider.example")


def answered_ticket() -> Ticket:
    ticket = opened_ticket()
    ticket.reply(reply(ticket, STAFF))
    ticket.collect_events()
    return ticket


def resolved_ticket() -> Ticket:
    ticket = opened_ticket()
    ticket.change_status(command(ChangeStatus, ticket, CUSTOMER, status=Status.RESOLVED))
    ticket.collect_events()
    return ticket


def refused(ticket: Ticket, decide: object, *args: object) -> TransitionForbidden:
    version = ticket.version
    with pytest.raises(TransitionForbidden) as refusal:
        decide(*args)  # type: ignore[operator]
    assert ticket.version == version, "a refused command records nothing"
    assert refusal.value.current_status is ticket.status
    return refusal.value


# -- statuses -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.ON_HOLD])
def test_staff_set_in_progress_or_on_hold_without_a_reply(status: Status) -> None:
    ticket = opened_ticket()

    ticket.change_status(command(ChangeStatus, ticket, STAFF, status=status))

    assert ticket.status is status
    assert event_names(ticket)[1:] == ["StatusChanged"]


def test_a_provider_label_is_kept_with_its_canonical_status() -> None:
    ticket = opened_ticket()

    ticket.change_status(command(ChangeStatus, ticket, STAFF, status=Status.IN_PROGRESS, status_label="Validation"))

    assert (ticket.status, ticket.status_label, ticket.shown_status) == (Status.IN_PROGRESS, "Validation", "Validation")


def test_a_new_label_of_the_same_status_is_a_change() -> None:
    ticket = opened_ticket()
    ticket.change_status(command(ChangeStatus, ticket, STAFF, status=Status.IN_PROGRESS, status_label="Validation"))

    ticket.change_status(
        command(ChangeStatus, ticket, STAFF, status=Status.IN_PROGRESS, status_label="Install request")
    )

    assert ticket.status_label == "Install request"


def test_setting_the_status_a_ticket_has_is_refused_naming_it() -> None:
    ticket = opened_ticket()
    ticket.change_status(command(ChangeStatus, ticket, STAFF, status=Status.ON_HOLD, status_label="To do"))

    refusal = refused(
        ticket, ticket.change_status, command(ChangeStatus, ticket, STAFF, status=Status.ON_HOLD, status_label="To do")
    )

    assert "To do" in refusal.detail


def test_a_staff_reply_may_set_a_status_instead_of_answered() -> None:
    ticket = opened_ticket()

    ticket.reply(
        command(PostReply, ticket, STAFF, body="Looking.", status=Status.IN_PROGRESS, status_label="Validation")
    )

    assert (ticket.status, ticket.status_label) == (Status.IN_PROGRESS, "Validation")


def test_an_internal_note_cannot_set_a_status() -> None:
    ticket = opened_ticket()

    refused(
        ticket,
        ticket.reply,
        command(PostReply, ticket, STAFF, body="n", visibility=Visibility.INTERNAL, status=Status.ON_HOLD),
    )


def test_the_requester_marks_the_ticket_resolved() -> None:
    ticket = answered_ticket()

    ticket.change_status(command(ChangeStatus, ticket, CUSTOMER, status=Status.RESOLVED))

    assert ticket.status is Status.RESOLVED


@pytest.mark.parametrize("status", [Status.IN_PROGRESS, Status.ON_HOLD, Status.OPEN, Status.ANSWERED])
def test_the_requester_may_set_no_other_status(status: Status) -> None:
    ticket = answered_ticket()

    refusal = refused(ticket, ticket.change_status, command(ChangeStatus, ticket, CUSTOMER, status=status))

    assert "resolved" in refusal.detail


@pytest.mark.parametrize("status", [Status.CLOSED, Status.CUSTOMER_REPLY])
def test_staff_close_by_closing_and_never_set_customer_reply(status: Status) -> None:
    ticket = opened_ticket()

    refused(ticket, ticket.change_status, command(ChangeStatus, ticket, STAFF, status=status))


def test_a_closed_ticket_changes_status_only_by_a_post() -> None:
    ticket = opened_ticket()
    ticket.close(close(ticket, STAFF))

    refusal = refused(ticket, ticket.change_status, command(ChangeStatus, ticket, STAFF, status=Status.ON_HOLD))

    assert refusal.current_status is Status.CLOSED


# -- assignment and fields ----------------------------------------------------------------------------


def test_staff_pick_up_reassign_and_unassign() -> None:
    ticket = opened_ticket()

    ticket.assign(command(AssignTicket, ticket, STAFF, assignee=SAM), None, staff=staff_record("agent-1"))
    ticket.assign(command(AssignTicket, ticket, STAFF, assignee=KIM), None, staff=staff_record("agent-2"))
    ticket.assign(command(AssignTicket, ticket, STAFF, assignee=None))

    assert ticket.assignee is None
    assert event_names(ticket)[1:] == ["Assigned", "Assigned", "Assigned"]


def test_assigning_the_assignee_again_records_nothing() -> None:
    ticket = opened_ticket()
    ticket.assign(command(AssignTicket, ticket, STAFF, assignee=SAM), None, staff=staff_record("agent-1"))

    ticket.assign(command(AssignTicket, ticket, STAFF, assignee=SAM), None, staff=staff_record("agent-1"))

    assert ticket.version == 2


def test_the_requester_assigns_nobody() -> None:
    ticket = opened_ticket()

    refused(ticket, ticket.assign, command(AssignTicket, ticket, CUSTOMER, assignee=SAM))


def test_staff_transfer_reprioritise_recategorise_and_tag_in_one_update() -> None:
    ticket = opened_ticket()

    ticket.update(
        command(
            UpdateTicket,
            ticket,
            STAFF,
            priority=Priority.URGENT,
            department="Billing",
            category="Invoices",
            tags=("vip",),
        ),
        None,
        configuration=configuration("acme"),
    )

    assert (ticket.priority, ticket.department, ticket.category, ticket.tags) == (
        "urgent",
        "Billing",
        "Invoices",
        ["vip"],
    )
    assert event_names(ticket)[1:] == ["PriorityChanged", "DepartmentChanged", "CategoryChanged", "TagsChanged"]


def test_an_update_records_only_what_changes() -> None:
    ticket = opened_ticket()

    ticket.update(command(UpdateTicket, ticket, STAFF, priority=Priority.NORMAL, cc=("a@example.com",)))

    assert event_names(ticket)[1:] == ["CcChanged"]


def test_the_requester_edits_cc_recipients_and_nothing_else() -> None:
    ticket = opened_ticket()

    ticket.update(command(UpdateTicket, ticket, CUSTOMER, cc=("boss@example.com",)))
    refusal = refused(ticket, ticket.update, command(UpdateTicket, ticket, CUSTOMER, priority=Priority.URGENT))

    assert ticket.cc == ["boss@example.com"]
    assert "CC" in refusal.detail


# -- rating ---------------------------------------------------------------------------------------------


def test_the_requester_rates_a_resolved_ticket_once() -> None:
    ticket = resolved_ticket()

    ticket.rate(command(RateTicket, ticket, CUSTOMER, rating=Rating.SATISFIED))
    refusal = refused(ticket, ticket.rate, command(RateTicket, ticket, CUSTOMER, rating=Rating.NEUTRAL))

    assert ticket.rating == {"rating": "satisfied", "comment": None}
    assert "already rated" in refusal.detail


def test_an_unsatisfied_rating_needs_a_written_complaint() -> None:
    ticket = resolved_ticket()

    refused(ticket, ticket.rate, command(RateTicket, ticket, CUSTOMER, rating=Rating.UNSATISFIED, comment="  "))
    ticket.rate(command(RateTicket, ticket, CUSTOMER, rating=Rating.UNSATISFIED, comment="Took three days."))

    assert ticket.rating == {"rating": "unsatisfied", "comment": "Took three days."}


def test_a_ticket_waiting_for_staff_cannot_be_rated_nor_rated_by_staff() -> None:
    ticket = opened_ticket()
    refused(ticket, ticket.rate, command(RateTicket, ticket, CUSTOMER, rating=Rating.SATISFIED))

    resolved = resolved_ticket()
    refused(resolved, resolved.rate, command(RateTicket, resolved, STAFF, rating=Rating.SATISFIED))


def test_a_new_resolution_may_be_rated_again() -> None:
    ticket = resolved_ticket()
    ticket.rate(command(RateTicket, ticket, CUSTOMER, rating=Rating.NEUTRAL))
    ticket.reply(reply(ticket, CUSTOMER))
    ticket.change_status(command(ChangeStatus, ticket, CUSTOMER, status=Status.RESOLVED))

    ticket.rate(command(RateTicket, ticket, CUSTOMER, rating=Rating.SATISFIED))

    assert ticket.rating == {"rating": "satisfied", "comment": None}


# -- archive ------------------------------------------------------------------------------------------


def test_closing_archives_and_a_post_brings_the_ticket_back_open() -> None:
    ticket = answered_ticket()
    ticket.close(close(ticket, CUSTOMER))
    assert ticket.archived

    ticket.reply(reply(ticket, CUSTOMER))

    assert (ticket.status, ticket.archived) == (Status.OPEN, False)


@pytest.mark.parametrize("ticket_of", [answered_ticket, resolved_ticket])
def test_answered_or_resolved_tickets_are_archived_keeping_their_status(ticket_of: object) -> None:
    ticket: Ticket = ticket_of()  # type: ignore[operator]
    status = ticket.status

    ticket.archive(command(ArchiveTicket, ticket, CUSTOMER))

    assert (ticket.archived, ticket.status) == (True, status)


def test_an_open_ticket_is_not_archived_and_the_refusal_names_its_status() -> None:
    ticket = opened_ticket()

    refusal = refused(ticket, ticket.archive, command(ArchiveTicket, ticket, STAFF))

    assert "open" in refusal.detail


def test_a_staff_reply_to_an_archived_ticket_brings_it_back_and_answers_it() -> None:
    ticket = answered_ticket()
    ticket.archive(command(ArchiveTicket, ticket, STAFF))
    ticket.collect_events()

    ticket.reply(reply(ticket, STAFF))

    assert event_names(ticket) == ["Reopened", "ReplyPosted", "StatusChanged"]
    assert (ticket.status, ticket.archived) == (Status.ANSWERED, False)


def test_an_internal_note_leaves_an_archived_ticket_in_the_archive() -> None:
    ticket = answered_ticket()
    ticket.archive(command(ArchiveTicket, ticket, STAFF))

    ticket.reply(reply(ticket, STAFF, visibility=Visibility.INTERNAL))

    assert ticket.archived


# -- auto-close -------------------------------------------------------------------------------------------


def test_the_system_closes_a_ticket_still_answered_at_the_same_version() -> None:
    ticket = answered_ticket()
    answered_at = ticket.answered_version
    assert answered_at == 3

    ticket.auto_close(command(AutoCloseTicket, ticket, SYSTEM, answered_version=3, reason="No reply for 7 days"))

    assert (ticket.status, ticket.archived) == (Status.CLOSED, True)
    (closed,) = ticket.collect_events()
    assert (closed.automatic, closed.reason) == (True, "No reply for 7 days")  # type: ignore[attr-defined]


def test_auto_close_changes_nothing_once_the_requester_replied() -> None:
    ticket = answered_ticket()
    ticket.reply(reply(ticket, CUSTOMER))

    refused(ticket, ticket.auto_close, command(AutoCloseTicket, ticket, SYSTEM, answered_version=3, reason="r"))


def test_auto_close_changes_nothing_once_answered_again() -> None:
    ticket = answered_ticket()
    ticket.reply(reply(ticket, CUSTOMER))
    ticket.reply(reply(ticket, STAFF))

    refused(ticket, ticket.auto_close, command(AutoCloseTicket, ticket, SYSTEM, answered_version=3, reason="r"))


def test_only_the_system_auto_closes() -> None:
    ticket = answered_ticket()

    refused(ticket, ticket.auto_close, command(AutoCloseTicket, ticket, STAFF, answered_version=3, reason="r"))


# -- concurrency ----------------------------------------------------------------------------------------


def test_an_expected_version_that_is_not_current_is_stale_and_records_nothing() -> None:
    ticket = opened_ticket()

    with pytest.raises(StaleVersion) as stale:
        ticket.change_status(command(ChangeStatus, ticket, STAFF, status=Status.ON_HOLD, expected_version=7))

    assert (stale.value.current_version, ticket.version) == (1, 1)


def test_a_command_delivered_again_after_others_is_still_applied_once() -> None:
    ticket = opened_ticket()
    first = command(ChangeStatus, ticket, STAFF, status=Status.ON_HOLD, expected_version=1)
    ticket.change_status(first)
    ticket.reply(reply(ticket, CUSTOMER))

    ticket.change_status(first)

    assert ticket.status is Status.CUSTOMER_REPLY
