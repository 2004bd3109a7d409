"""The port every command works through: the installation's directory, read from its bucket and changed by
commands the tickets service decides. ``nats_directory`` is the real one; the unit tests use a fake."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from hostdesk_contracts.commands import ImportTicket
from hostdesk_contracts.directory import AnyDirectoryCommand, Record
from hostdesk_contracts.outcomes import CommandOutcome

from hostdesk_cli.connection import Connection
from hostdesk_cli.records import RecordKind


class Unreachable(Exception):
    """The installation cannot be reached (NATS down, wrong credentials, no directory yet): nothing was sent."""


class Directory(Protocol):
    async def get(self, key: str) -> Record | None:
        """The record under ``key`` in the directory bucket, or None."""
        ...

    async def records(self, kind: RecordKind) -> list[Record]:
        """Every record of one kind in the bucket (of every tenant of the installation)."""
        ...

    async def send(self, command: AnyDirectoryCommand | ImportTicket) -> CommandOutcome | None:
        """Send ``command`` (a directory command, or an import of a ticket) and wait for its outcome: None when none
        came in time (it may still be applied)."""
        ...


DirectoryOpener = Callable[[Connection], AbstractAsyncContextManager[Directory]]
