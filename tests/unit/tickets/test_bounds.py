"""How much a ticket takes and how fast: posts of the requesting side per minute, posts in all, CC recipients
by side, and merges only between tickets of one requester."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hostdesk_contracts.base import Actor, Role, Visibility
from hostdesk_contracts.commands import MergeTicket, OpenTicket, PostReply, UpdateTicket, ticket_id_for
from hostdesk_contracts.outcomes import Refusal
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.domain.errors import InvalidCommand, PostingTooFast, TransitionForbidden
from hostdesk_tickets.domain.limits import POSTS_MAX, REQUESTER_BURST_MAX, seconds_until_requester_may_post
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import (
    CUSTOMER,
    NOW,
    OTHER_CUSTOMER,
    STAFF,
    command,
    handle,
    new_id,
    open_command,
    open_ticket,
    opened_ticket,
    reply,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def app(clock: Clock) -> Iterator[TicketsApplication]:
    application = TicketsApplication(
        numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock
    )
    yield application
    application.close()


def customer_burst(ticket: Ticket, *, at: datetime, count: int = REQUESTER_BURST_MAX) -> None:
    for n in range(count):
        ticket.reply(reply(ticket, CUSTOMER), now=at + timedelta(seconds=n))


def opening(actor: Actor = CUSTOMER, *, cc: tuple[str, ...] = (), requester_id: str | None = None) -> OpenTicket:
    command_id = new_id()
    return OpenTicket(
        command_id=command_id,
        ticket_id=ticket_id_for(command_id),
        actor=actor,
        issued_at=NOW,
        subject="Mail bounces",
        body="Every mail to example.com bounces.",
        cc=cc,
        requester_id=requester_id,
    )


def addresses(count: int) -> tuple[str, ...]:
    return tuple(f"colleague{n}@example.com" for n in range(count))


# -- posts per minute -------------------------------------------------------------------------------------


def test_the_requesters_eleventh_reply_within_a_minute_is_refused_with_when_to_post_again() -> None:
    ticket = opened_ticket()
    customer_burst(ticket, at=NOW)
    version = ticket.version

    with pytest.raises(PostingTooFast) as refused:
        ticket.reply(reply(ticket, CUSTOMER), now=NOW + timedelta(seconds=20))

    assert refused.value.refusal is Refusal.RATE_LIMITED
    assert refused.value.retry_after == 40  # the first of the ten leaves the minute 60 s after it was posted
    assert ticket.version == version


def test_the_requester_posts_again_once_the_first_post_of_the_ten_is_a_minute_old() -> None:
    ticket = opened_ticket()
    customer_burst(ticket, at=NOW)

    ticket.reply(reply(ticket, CUSTOMER), now=NOW + timedelta(seconds=60))

    assert len(ticket.post_ids) == 1 + REQUESTER_BURST_MAX + 1


def test_a_public_staff_reply_starts_the_requesters_count_afresh_and_an_internal_note_does_not() -> None:
    answered, noted = opened_ticket(), opened_ticket()
    for ticket in (answered, noted):
        customer_burst(ticket, at=NOW)
    answered.reply(reply(answered, STAFF), now=NOW + timedelta(seconds=11))
    noted.reply(reply(noted, STAFF, visibility=Visibility.INTERNAL), now=NOW + timedelta(seconds=11))

    answered.reply(reply(answered, CUSTOMER), now=NOW + timedelta(seconds=12))
    with pytest.raises(PostingTooFast):
        noted.reply(reply(noted, CUSTOMER), now=NOW + timedelta(seconds=12))


def test_the_handling_side_posts_as_often_as_it_needs() -> None:
    ticket = opened_ticket()

    for n in range(3 * REQUESTER_BURST_MAX):
        ticket.reply(reply(ticket, STAFF, visibility=Visibility.INTERNAL), now=NOW + timedelta(seconds=n))

    assert len(ticket.post_ids) == 1 + 3 * REQUESTER_BURST_MAX


def test_the_wait_is_whole_seconds_and_at_least_one() -> None:
    burst = [NOW + timedelta(seconds=n) for n in range(REQUESTER_BURST_MAX)]

    assert seconds_until_requester_may_post(burst[:-1], now=NOW) is None
    assert seconds_until_requester_may_post(burst, now=NOW + timedelta(seconds=59, milliseconds=999)) == 1
    assert seconds_until_requester_may_post(burst, now=NOW + timedelta(seconds=60)) is None


def test_the_count_is_kept_by_the_stored_events_and_a_refusal_says_when_in_the_outcome(
    app: TicketsApplication, clock: Clock
) -> None:
    opened = open_command()
    handle(app, opened)
    for n in range(REQUESTER_BURST_MAX):
        clock.now = NOW + timedelta(seconds=n)
        post = PostReply(command_id=new_id(), ticket_id=opened.ticket_id, actor=CUSTOMER, issued_at=NOW, body="?")
        assert handle(app, post).result == "committed"

    clock.now = NOW + timedelta(seconds=30)
    refused = handle(
        app, PostReply(command_id=new_id(), ticket_id=opened.ticket_id, actor=CUSTOMER, issued_at=NOW, body="??")
    )
    clock.now = NOW + timedelta(seconds=61)
    later = handle(
        app, PostReply(command_id=new_id(), ticket_id=opened.ticket_id, actor=CUSTOMER, issued_at=NOW, body="Any news?")
    )

    assert (refused.result, refused.refusal, refused.retry_after) == ("refused", Refusal.RATE_LIMITED, 30)
    assert "within a minute" in (refused.detail or "")
    assert later.result == "committed"
    assert app.get_ticket(opened.ticket_id).requester_burst[-1] == NOW + timedelta(seconds=61)


# -- posts in all -----------------------------------------------------------------------------------------


def full_ticket() -> Ticket:
    ticket = opened_ticket()
    for n in range(POSTS_MAX - 1):
        ticket.reply(reply(ticket, STAFF, visibility=Visibility.INTERNAL), now=NOW + timedelta(seconds=n))
    return ticket


def test_a_ticket_of_1000_posts_refuses_more_from_either_side() -> None:
    ticket = full_ticket()
    assert len(ticket.post_ids) == POSTS_MAX == 1_000

    for actor in (STAFF, CUSTOMER):
        with pytest.raises(TransitionForbidden, match="1000 posts"):
            ticket.reply(reply(ticket, actor), now=NOW + timedelta(hours=1))


def test_a_merge_that_would_take_a_ticket_past_1000_posts_is_refused() -> None:
    target, source = full_ticket(), opened_ticket()
    merge = command(MergeTicket, source, STAFF, into_ticket_id=target.id)

    with pytest.raises(TransitionForbidden, match="more than 1000 posts"):
        source.merge_into(merge, None, target)

    assert source.merged_into is None


# -- CC recipients ----------------------------------------------------------------------------------------


def test_a_customer_opens_a_ticket_with_five_cc_recipients_and_not_six() -> None:
    assert open_ticket(opening(cc=addresses(5)), number=1).cc == list(addresses(5))

    with pytest.raises(InvalidCommand) as refused:
        open_ticket(opening(cc=addresses(6)), number=2)

    assert (refused.value.refusal, refused.value.field) == (Refusal.INVALID, "cc")


def test_staff_open_a_ticket_with_twenty_cc_recipients() -> None:
    to_a_customer = opening(STAFF, cc=addresses(20), requester_id=CUSTOMER.account_id)

    assert len(open_ticket(to_a_customer, number=1).cc) == 20


def test_a_customer_sets_at_most_five_cc_recipients_and_staff_twenty() -> None:
    ticket = opened_ticket()

    with pytest.raises(InvalidCommand) as refused:
        ticket.update(command(UpdateTicket, ticket, CUSTOMER, cc=addresses(6)))
    ticket.update(command(UpdateTicket, ticket, STAFF, cc=addresses(20)))

    assert refused.value.field == "cc"
    assert ticket.cc == list(addresses(20))


def test_a_customer_may_take_addresses_off_a_longer_list_staff_set() -> None:
    ticket = opened_ticket()
    ticket.update(command(UpdateTicket, ticket, STAFF, cc=addresses(12)))

    ticket.update(command(UpdateTicket, ticket, CUSTOMER, cc=addresses(11)))
    with pytest.raises(InvalidCommand):
        ticket.update(command(UpdateTicket, ticket, CUSTOMER, cc=(*addresses(10), "stranger@example.org")))

    assert ticket.cc == list(addresses(11))


def test_a_customers_opening_with_too_many_cc_recipients_is_refused_as_invalid(app: TicketsApplication) -> None:
    outcome = handle(app, opening(cc=addresses(6)))

    assert (outcome.result, outcome.refusal, outcome.field) == ("refused", Refusal.INVALID, "cc")


# -- merges -----------------------------------------------------------------------------------------------


def test_a_merge_of_two_requesters_tickets_is_refused_and_changes_neither(app: TicketsApplication) -> None:
    mine, theirs = open_command(CUSTOMER), open_command(OTHER_CUSTOMER)
    handle(app, mine)
    handle(app, theirs)

    outcome = handle(
        app,
        MergeTicket(
            command_id=new_id(), ticket_id=theirs.ticket_id, actor=STAFF, issued_at=NOW, into_ticket_id=mine.ticket_id
        ),
    )

    assert (outcome.result, outcome.refusal, outcome.field) == ("refused", Refusal.INVALID, "into_ticket_id")
    assert "another requester" in (outcome.detail or "")
    assert app.get_ticket(mine.ticket_id).version == 1
    assert app.get_ticket(theirs.ticket_id).version == 1


def test_a_merge_of_one_requesters_tickets_still_joins_them(app: TicketsApplication) -> None:
    first, second = open_command(CUSTOMER), open_command(CUSTOMER)
    handle(app, first)
    handle(app, second)

    outcome = handle(
        app,
        MergeTicket(
            command_id=new_id(), ticket_id=second.ticket_id, actor=STAFF, issued_at=NOW, into_ticket_id=first.ticket_id
        ),
    )

    assert outcome.result == "committed"
    assert app.get_ticket(second.ticket_id).merged_into == str(first.ticket_id)


def test_a_merge_across_requesters_is_refused_even_when_staff_open_one_of_the_tickets() -> None:
    customers = opened_ticket()
    staffs = open_ticket(opening(STAFF, requester_id=OTHER_CUSTOMER.account_id), number=2)

    with pytest.raises(InvalidCommand):
        staffs.merge_into(
            command(
                MergeTicket,
                staffs,
                Actor(account_id="lead", tenant="acme", role=Role.SUPERVISOR),
                into_ticket_id=customers.id,
            ),
            None,
            customers,
        )
