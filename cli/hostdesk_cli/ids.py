"""Command ids: derived from what a command asks, so that running the same command again is the same command.

JetStream drops a second publish of an id within its duplicate window and the tickets service answers a command
it already decided with its stored outcome, so a put that timed out (exit 2) and is run again is applied once.
The id covers the command's content (not its time) and the version the record had when the command line read
it: putting A, then B, then A again is three commands (the third must not be taken for the first, whose stored
outcome would answer it while the record stays B), while running one put twice over an unchanged record is
one. ``--command-id`` reuses the id a timed-out run printed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID, uuid5

from hostdesk_contracts.directory import DirectoryCommand

CLI_COMMAND_NAMESPACE = UUID("9d3f5a27-4c1e-4b8a-a0f6-2e7c9b1d5e43")
PLACEHOLDER = "-"  # the id a command is built with before its own is derived

Command = TypeVar("Command", bound=DirectoryCommand)


def now() -> datetime:
    return datetime.now(UTC)


def derived_id(command: DirectoryCommand, *, read_version: int | None) -> str:
    """uuid5 of the command's type, content and actor (all but its id and time) and the record's version read."""
    asked = command.model_dump(mode="json", exclude={"command_id", "issued_at"})
    content = json.dumps([asked, read_version], sort_keys=True, separators=(",", ":"))
    return str(uuid5(CLI_COMMAND_NAMESPACE, content))


def with_id(command: Command, *, read_version: int | None, command_id: str | None = None) -> Command:
    """``command`` under ``command_id`` when the user gave one, else under the id derived from its content."""
    chosen = command_id or derived_id(command, read_version=read_version)
    return command.model_copy(update={"command_id": chosen})
