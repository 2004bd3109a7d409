"""Records and the rows of the read model's tables."""

from dataclasses import fields
from typing import cast

import asyncpg
from hostdesk_query.adapters.rows import ENTRY_FIELDS, TICKET_FIELDS, entry_args, entry_of, ticket_args, ticket_of
from hostdesk_query.domain.model import TicketRecord, TimelineEntry
from hostdesk_query.domain.projection import change_of, plan_batch
from hostdesk_query.testing import every_kind_of_event


def as_read(columns: tuple[str, ...], row: tuple[object, ...]) -> asyncpg.Record:
    """A row as asyncpg reads it back: by column name, arrays as lists."""
    values = (list(value) if isinstance(value, tuple) else value for value in row)
    return cast(asyncpg.Record, dict(zip(columns, values, strict=True)))


def test_every_field_of_a_record_has_a_column() -> None:
    assert set(TICKET_FIELDS) == {field.name for field in fields(TicketRecord)}
    assert set(ENTRY_FIELDS) == {field.name for field in fields(TimelineEntry)}


def test_every_kind_of_event_leaves_rows_that_read_back_as_the_same_records() -> None:
    plan = plan_batch({}, [change_of(event) for event in every_kind_of_event("acme").events])

    assert [ticket_of(as_read(TICKET_FIELDS, ticket_args(ticket))) for ticket in plan.created] == list(plan.created)
    assert [entry_of(as_read(ENTRY_FIELDS, entry_args(entry))) for entry in plan.entries] == list(plan.entries)
