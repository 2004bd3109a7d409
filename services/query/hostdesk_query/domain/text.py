"""Text as PostgreSQL can store it."""

from __future__ import annotations

from collections.abc import Iterable


def clean(value: str) -> str:
    # PostgreSQL text cannot hold NUL; a stray one in a mail body must not keep the ticket out of the read model.
    return value.replace("\x00", "\ufffd")


def clean_optional(value: str | None) -> str | None:
    return None if value is None else clean(value)


def clean_all(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(clean(value) for value in values)
