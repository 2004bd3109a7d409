"""Short ticket numbers (``#482913``): unique, six digits for the first 900,000 tickets, not guessable in order.

Each ticket takes the next value of a sequence; the value is spread over its block of numbers by an affine
permutation, so consecutive tickets get unrelated numbers and the count of tickets is not shown to customers.
"""

from __future__ import annotations

# Block k holds the (k+6)-digit numbers. A multiplier coprime with every block size makes each map a bijection.
_MULTIPLIER = 7**7  # coprime with 9 * 10**n for every n
_OFFSET = 271_828


def ticket_number(sequence_value: int) -> int:
    """The number of the ticket that took ``sequence_value`` (1, 2, 3...) from the sequence."""
    if sequence_value < 1:
        raise ValueError("sequence values start at 1")
    index = sequence_value - 1
    low, size = 100_000, 900_000
    while index >= size:
        index -= size
        low, size = low * 10, size * 10
    return low + (index * _MULTIPLIER + _OFFSET) % size


def sequence_value_of(number: int) -> int | None:
    """The sequence value whose ticket takes ``number`` (``ticket_number``'s inverse); ``None`` for a number the
    sequence never gives (fewer than six digits)."""
    if number < 100_000:
        return None
    base, low, size = 0, 100_000, 900_000
    while number >= low + size:
        base, low, size = base + size, low * 10, size * 10
    index = ((number - low - _OFFSET) * pow(_MULTIPLIER, -1, size)) % size
    return base + index + 1
