"""Records and the rows of the read model's tables: a record is its own row (an entry's files as JSON text)."""

from enum import StrEnum
from typing import cast

import asyncpg
from hostdesk_devtools.stories import every_kind_of_event
from hostdesk_query.adapters.rows import ENTRY_FIELDS, TICKET_FIELDS, entry_of, entry_rows_of, ticket_of
from hostdesk_query.domain.projection import change_of, plan_batch


def _text(value: object) -> object:
    return str(value) if isinstance(value, StrEnum) else value


def as_read(columns: tuple[str, ...], row: tuple[object, ...]) -> asyncpg.Record:
    """A row as asyncpg reads it back: by column name, enumerations as text, arrays as lists."""
    values = (list(value) if isinstance(value, tuple) else _text(value) for value in row)
    return cast(asyncpg.Record, dict(zip(columns, values, strict=True)))


def test_every_kind_of_event_leaves_rows_that_read_back_as_the_same_records() -> None:
    plan = plan_batch({}, [change_of(event) for event in every_kind_of_event("acme").events])

    assert [ticket_of(as_read(TICKET_FIELDS, ticket)) for ticket in plan.created] == list(plan.created)
    assert [entry_of(as_read(ENTRY_FIELDS, row)) for row in entry_rows_of(plan.entries)] == list(plan.entries)
