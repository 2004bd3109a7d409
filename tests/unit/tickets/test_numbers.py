from __future__ import annotations

from hostdesk_tickets.domain.numbers import ticket_number


def test_the_first_900000_tickets_get_distinct_six_digit_numbers() -> None:
    numbers = {ticket_number(value) for value in range(1, 900_001)}

    assert len(numbers) == 900_000
    assert min(numbers) == 100_000
    assert max(numbers) == 999_999


def test_after_six_digits_numbers_grow_to_seven_and_stay_distinct() -> None:
    numbers = {ticket_number(value) for value in range(900_001, 1_000_001)}

    assert len(numbers) == 100_000
    assert all(1_000_000 <= number <= 9_999_999 for number in numbers)


def test_consecutive_tickets_do_not_get_consecutive_numbers() -> None:
    assert abs(ticket_number(2) - ticket_number(1)) > 1
