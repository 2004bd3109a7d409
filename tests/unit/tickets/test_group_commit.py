"""A batch of commands is decided in order and stored together; a conflict falls back to one at a time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostdesk_contracts.base import Status, Visibility
from hostdesk_contracts.commands import CloseTicket, PostReply
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.domain.errors import TicketNotFound
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import CUSTOMER, NOW, STAFF, handle_batch, new_id, open_command


@pytest.fixture
def app() -> Iterator[TicketsApplication]:
    application = TicketsApplication(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def committed(result: CommandOutcome | TicketNotFound) -> CommandOutcome:
    assert isinstance(result, CommandOutcome)
    assert result.result == "committed"
    return result


def test_an_open_and_a_reply_to_it_in_one_batch_both_apply(app: TicketsApplication) -> None:
    opening = open_command()
    answer = PostReply(command_id=new_id(), ticket_id=opening.ticket_id, actor=STAFF, issued_at=NOW, body="On it.")

    opened, answered = handle_batch(app, [opening, answer])

    assert committed(opened).version == 1
    assert committed(answered).version == 3
    assert app.get_ticket(opening.ticket_id).status is Status.ANSWERED


def test_a_batch_of_opens_takes_its_ticket_numbers_in_one_round_trip(app: TicketsApplication) -> None:
    numbers = app.numbers
    assert isinstance(numbers, CountingNumbers)

    results = handle_batch(app, [open_command() for _ in range(10)])

    assert len({committed(result).number for result in results}) == 10
    assert numbers.round_trips == 1


def test_an_open_delivered_again_within_a_later_batch_opens_nothing_new(app: TicketsApplication) -> None:
    opening = open_command()
    (first,) = handle_batch(app, [opening])
    others = [open_command() for _ in range(3)]

    results = handle_batch(app, [others[0], opening, *others[1:]])

    assert committed(results[1]) == first
    assert all(committed(result).version == 1 for result in results)
    assert app.recorder.max_notification_id() == 4  # one event per ticket opened, none for the repeat


def test_a_refused_command_refuses_alone_and_the_rest_of_the_batch_applies(app: TicketsApplication) -> None:
    opening = open_command()
    handle_batch(app, [opening])
    close = CloseTicket(command_id=new_id(), ticket_id=opening.ticket_id, actor=CUSTOMER, issued_at=NOW)
    close_again = CloseTicket(command_id=new_id(), ticket_id=opening.ticket_id, actor=STAFF, issued_at=NOW)
    note = PostReply(
        command_id=new_id(),
        ticket_id=opening.ticket_id,
        actor=STAFF,
        issued_at=NOW,
        body="Customer closed it.",
        visibility=Visibility.INTERNAL,
    )

    closed, refused, noted = handle_batch(app, [close, close_again, note])

    assert committed(closed).version == 2
    assert isinstance(refused, CommandOutcome)
    assert refused.refusal is Refusal.CONFLICT
    assert committed(noted).version == 3


def test_a_command_for_a_ticket_not_stored_yet_is_reported_and_the_rest_applies(app: TicketsApplication) -> None:
    orphan = PostReply(command_id=new_id(), ticket_id=open_command().ticket_id, actor=CUSTOMER, issued_at=NOW, body="?")
    opening = open_command()

    missing, opened = handle_batch(app, [orphan, opening])

    assert isinstance(missing, TicketNotFound)
    assert committed(opened).version == 1
