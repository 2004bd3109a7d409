"""Ticket numbers, from the PostgreSQL sequence and from the in-memory fake alike: increasing, never repeated, a
batch of them in one round trip; a number reserved for an imported ticket is never drawn, and one drawn already is
never reserved."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hostdesk_tickets.adapters.event_store import prepare_schema
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers, NumberAllocator, SequenceNumbers
from hostdesk_tickets.domain.numbers import ticket_number
from hostdesk_tickets.settings import Settings


@pytest.fixture(params=["postgresql", "fake"])
def numbers(request: pytest.FixtureRequest, tickets_settings: Settings) -> Iterator[NumberAllocator]:
    allocator: NumberAllocator
    if request.param == "postgresql":
        prepare_schema(tickets_settings)
        allocator = SequenceNumbers(tickets_settings)
    else:
        allocator = CountingNumbers()
    yield allocator
    allocator.close()


def test_numbers_increase_and_never_repeat_one_at_a_time_or_in_a_batch(numbers: NumberAllocator) -> None:
    first = numbers.next_value()
    batch = numbers.next_values(5)
    last = numbers.next_value()

    drawn = [first, *batch, last]
    assert drawn == sorted(drawn)
    assert len(set(drawn)) == 7
    assert first >= 1


def test_a_reserved_number_is_the_imported_ticket_s_and_never_drawn(numbers: NumberAllocator) -> None:
    upcoming = ticket_number(numbers.next_value() + 1)  # the number the next draw would give
    ticket, other = uuid.uuid4(), uuid.uuid4()

    assert numbers.reserve(upcoming, ticket)
    assert numbers.reserve(upcoming, ticket)  # the same import again
    assert not numbers.reserve(upcoming, other)
    assert ticket_number(numbers.next_value()) != upcoming


def test_a_number_drawn_already_is_refused_and_left_free_of_the_refused_reservation(numbers: NumberAllocator) -> None:
    drawn = ticket_number(numbers.next_value())
    assert not numbers.reserve(drawn, uuid.uuid4())
    assert numbers.reserve(4242, uuid.uuid4())  # fewer than six digits: never drawn, only reserved once


def test_draws_and_reservations_of_the_same_numbers_at_once_never_give_one_number_twice(
    numbers: NumberAllocator,
) -> None:
    start = numbers.next_value()
    wanted = [ticket_number(start + offset) for offset in range(1, 41)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        reserving = [pool.submit(numbers.reserve, number, uuid.uuid4()) for number in wanted]
        drawing = [pool.submit(numbers.next_values, 2) for _ in range(20)]
        reserved = {number for number, done in zip(wanted, reserving, strict=True) if done.result()}
        given = [ticket_number(value) for done in drawing for value in done.result()]
    assert len(given) == 40
    assert not reserved & set(given)
