"""Sending commands and reading their outcomes, over the in-memory bus: which outcome is a request's own."""

from __future__ import annotations

import uuid

import pytest
from hostdesk_contracts.outcomes import Refusal
from hostdesk_intake.adapters.command_bus import BusUnavailable
from hostdesk_intake.adapters.fake_bus import FakeCommandBus
from hostdesk_intake.service_layer.dispatch import (
    AnotherRequestsOutcome,
    NotYourCommand,
    dispatch,
    dispatch_all,
    outcome_of,
)

from .builders import CUSTOMER, OTHER_CUSTOMER, close_command, open_command, refused, reply_command


async def test_a_command_sent_again_finds_its_first_outcome_and_is_sent_once() -> None:
    bus = FakeCommandBus()
    command = open_command()
    first = await dispatch(bus, command)

    again = await dispatch(bus, command.model_copy(update={"issued_at": command.issued_at.replace(year=2027)}))

    assert again == first
    assert bus.sent == [command]


async def test_a_key_reused_for_another_ticket_does_not_pass_off_the_first_outcome() -> None:
    bus = FakeCommandBus()
    first = reply_command(uuid.uuid4())
    await dispatch(bus, first)
    second = reply_command(uuid.uuid4(), command_id=first.command_id)

    with pytest.raises(AnotherRequestsOutcome):
        await dispatch(bus, second)

    assert bus.sent == [first]


async def test_a_key_of_an_open_reused_for_a_reply_to_that_ticket_is_refused() -> None:
    bus = FakeCommandBus()
    opened = open_command()
    await dispatch(bus, opened)
    later = reply_command(opened.ticket_id, command_id=opened.command_id)

    with pytest.raises(AnotherRequestsOutcome):
        await dispatch(bus, later)


async def test_a_key_reused_for_another_reply_to_the_same_ticket_is_refused_and_not_sent() -> None:
    bus = FakeCommandBus()
    opened = open_command()
    await dispatch(bus, opened)
    first = reply_command(opened.ticket_id)
    await dispatch(bus, first, digest="digest-of-the-first-request")
    other = first.model_copy(update={"body": "Something else entirely."})

    with pytest.raises(AnotherRequestsOutcome):
        await dispatch(bus, other, digest="digest-of-another-request")

    assert bus.sent == [opened, first]


async def test_a_retry_whose_outcome_is_stored_gets_it_without_being_sent_again() -> None:
    bus = FakeCommandBus()
    command = open_command()
    first = await dispatch(bus, command, digest="digest-of-the-request")
    bus.sent.clear()  # as JetStream forgets a message id after its de-duplication window

    again = await dispatch(bus, command, digest="digest-of-the-request")

    assert again == first
    assert bus.sent == []


async def test_the_same_account_id_in_another_tenant_cannot_read_the_outcome() -> None:
    bus = FakeCommandBus()
    command = open_command()
    await dispatch(bus, command)
    same_account_elsewhere = CUSTOMER.model_copy(update={"tenant": "globex"})

    with pytest.raises(NotYourCommand):
        await outcome_of(bus, command.command_id, caller=same_account_elsewhere)


async def test_an_id_never_sent_is_not_the_callers_to_read() -> None:
    with pytest.raises(NotYourCommand):
        await outcome_of(FakeCommandBus(), str(uuid.uuid4()), caller=CUSTOMER)


async def test_a_command_not_decided_in_time_is_none_until_decided() -> None:
    bus = FakeCommandBus(lambda command: None)
    command = close_command(uuid.uuid4())

    sent = await dispatch(bus, command)
    before = await outcome_of(bus, command.command_id, caller=CUSTOMER)
    bus.complete(refused(command, Refusal.NOT_FOUND))
    after = await outcome_of(bus, command.command_id, caller=CUSTOMER)

    assert (sent, before) == (None, None)
    assert after is not None
    assert after.refusal is Refusal.NOT_FOUND


async def test_another_accounts_command_is_not_the_callers_to_read() -> None:
    bus = FakeCommandBus()
    command = open_command()
    await dispatch(bus, command)

    with pytest.raises(NotYourCommand):
        await outcome_of(bus, command.command_id, caller=OTHER_CUSTOMER)


async def test_many_commands_answer_their_outcomes_in_their_order() -> None:
    bus = FakeCommandBus()
    opened = open_command()
    await dispatch(bus, opened)
    commands = [reply_command(uuid.uuid4()), reply_command(opened.ticket_id), close_command(opened.ticket_id)]

    outcomes = await dispatch_all(bus, commands, request_id=str(uuid.uuid4()), actor=CUSTOMER)

    assert [outcome.command_id if outcome else None for outcome in outcomes] == [c.command_id for c in commands]
    assert [outcome.result if outcome else None for outcome in outcomes] == ["refused", "committed", "committed"]


async def test_many_commands_on_an_unreachable_bus_raise_that_they_were_not_stored() -> None:
    bus = FakeCommandBus()
    bus.reachable = False

    with pytest.raises(BusUnavailable):
        await dispatch_all(bus, [open_command(), open_command()], request_id=str(uuid.uuid4()), actor=CUSTOMER)
