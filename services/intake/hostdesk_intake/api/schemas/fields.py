"""The fields many requests share, how a status is given (by name or by the provider's label), and the base of
every request body."""

from __future__ import annotations

from typing import Annotated

from hostdesk_contracts.base import Status
from hostdesk_contracts.commands import Tag
from hostdesk_contracts.runtime.text import refuse_unstorable
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)

from hostdesk_intake.api.problems import InvalidField
from hostdesk_intake.domain.status_labels import SETTABLE_STATUSES, StatusLabels, UnknownStatusLabel


def _readable(value: str) -> str:
    refuse_unstorable(value)  # refused here, named, rather than made storable downstream
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _settable(status: Status) -> Status:
    if status not in SETTABLE_STATUSES:
        raise ValueError(f"must be one of {', '.join(SETTABLE_STATUSES)}; a ticket is closed with POST .../close")
    return status


def _distinct(tags: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tags))  # the same tag twice is the tag once, in the order first given


Readable = AfterValidator(_readable)
Label = Annotated[str, StringConstraints(strip_whitespace=True), Field(max_length=100), Readable]
Text = Annotated[str, Field(max_length=1000), Readable]
SettableStatus = Annotated[
    Status,
    AfterValidator(_settable),
    WithJsonSchema({"type": "string", "enum": [status.value for status in SETTABLE_STATUSES]}),
]
Tags = Annotated[
    tuple[Annotated[Tag, StringConstraints(strip_whitespace=True), Readable], ...],
    Field(max_length=20, description="Each tag once; a repeated tag is kept once."),
    AfterValidator(_distinct),
]


def status_or_label(value: object, info: ValidationInfo, *, other: str) -> None:
    """A status may be given by name or by the provider's label, not both."""
    if value is not None and info.data.get(other) is not None:
        raise ValueError(f"give either {other} or {info.field_name}, not both")


def resolved_status(
    labels: StatusLabels, tenant: str, status: Status | None, label: str | None, *, field: str
) -> tuple[Status | None, str | None]:
    """The canonical status and the label as configured, from a status or the tenant's label in ``field``."""
    if label is None:
        return status, None
    try:
        found = labels.resolve(tenant, label)
    except UnknownStatusLabel as unknown:
        known = [{"label": each.label, "status": each.status.value} for each in unknown.known]
        raise InvalidField(field, str(unknown), known_labels=known) from unknown
    return found.status, found.label


class CommandRequest(BaseModel):
    """A request body: a misspelt or unknown field is refused, never dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)
