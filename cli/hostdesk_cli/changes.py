"""Sending one change to the directory: the record read first, the command's id derived, the outcome checked,
and a line that says what became of it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import typer
from hostdesk_contracts.directory import AnyDirectoryCommand, Record
from hostdesk_contracts.outcomes import CommandOutcome
from pydantic import BaseModel, ValidationError

from hostdesk_cli.directory import Directory
from hostdesk_cli.ids import with_id
from hostdesk_cli.outcomes import committed

Model = TypeVar("Model", bound=BaseModel)
# A command id is a token of the outcome's subject and a key of the outcomes bucket: no dot, wildcard or space.
COMMAND_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def command_id_option() -> Any:
    return typer.Option(
        None,
        "--command-id",
        help="Send under this id (a timed-out run prints it) instead of the one derived from the command.",
    )


async def apply(
    directory: Directory, command: AnyDirectoryCommand, *, current: Record | None, command_id: str | None
) -> CommandOutcome:
    """Send ``command`` under its derived id (or ``command_id``) and return its commit, else fail."""
    if command_id is not None and not COMMAND_ID_PATTERN.fullmatch(command_id):
        raise typer.BadParameter("1 to 200 letters, digits, '-' or '_'", param_hint="--command-id")
    sent = with_id(command, read_version=current.version if current else None, command_id=command_id)
    return committed(sent, await directory.send(sent))


def said(outcome: CommandOutcome, *, current: Record | None, asked: Record) -> str:
    """What became of a put: created, changed, or nothing to change (the same content as the record)."""
    if current is None:
        return f"Created {outcome.key} (version {outcome.version})."
    if current.model_dump(exclude={"version"}) == asked.model_dump(exclude={"version"}):
        return f"{outcome.key} is already so: nothing changed (version {outcome.version})."
    return f"Changed {outcome.key} (version {outcome.version})."


def built(model: type[Model], options: Mapping[str, str], **values: Any) -> Model:
    """``model`` of ``values``, or a usage error naming the option at fault (``options`` maps fields to them)."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        raise typer.BadParameter(first["msg"], param_hint=options.get(field, field or None)) from error
