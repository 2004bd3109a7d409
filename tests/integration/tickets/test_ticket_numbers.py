"""Ticket numbers, from the PostgreSQL sequence and from the in-memory fake alike: increasing, never repeated, a
batch of them in one round trip."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostdesk_tickets.adapters.event_store import prepare_schema
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers, NumberAllocator, SequenceNumbers
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
