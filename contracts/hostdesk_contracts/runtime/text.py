"""Text PostgreSQL cannot store: the NUL character (U+0000), which its ``text`` type refuses.

One rule for every service. A request that carries one is refused at the door, a 422 naming the field
(``refuse_unstorable`` in a validator). An event already in the log is never refused, since a consumer that
cannot store it would hold back every later event of its ticket: ``storable`` replaces each NUL by U+FFFD, the
replacement character, which marks where text was lost and, unlike dropping it, never makes two different
values (two account ids, two tags) equal.
"""

from __future__ import annotations

from collections.abc import Iterable

NUL = "\x00"
REPLACEMENT = "\ufffd"
REFUSAL = "must not contain NUL characters"


def refuse_unstorable(value: str) -> str:
    """``value`` unchanged, or a ``ValueError`` that pydantic turns into a 422 naming the field."""
    if NUL in value:
        raise ValueError(REFUSAL)
    return value


def storable(value: str) -> str:
    return value.replace(NUL, REPLACEMENT)


def storable_or_none(value: str | None) -> str | None:
    return None if value is None else storable(value)


def storable_all(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(storable(value) for value in values)
