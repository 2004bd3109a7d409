"""An in-memory directory for the command line's unit tests: it keeps records as the bucket would and decides
commands as a tiny tickets service (versions, stale, a put of the same content records nothing), or answers as
a test decides."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from hostdesk_cli.connection import Connection
from hostdesk_cli.directory import Directory, Unreachable
from hostdesk_cli.records import RecordKind
from hostdesk_cli.session import Wiring
from hostdesk_contracts.directory import AnyDirectoryCommand, Record, record_key
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from rich.console import Console

Decide = Callable[[AnyDirectoryCommand], CommandOutcome | None]


@dataclass
class FakeDirectory:
    stored: dict[str, Record] = field(default_factory=dict)  # the bucket: record key -> record
    sent: list[AnyDirectoryCommand] = field(default_factory=list)
    outcomes: dict[str, CommandOutcome] = field(default_factory=dict)
    decide: Decide | None = None
    reachable: bool = True
    connection: Connection | None = None

    def wiring(self) -> Wiring:
        return Wiring(open_directory=self.open, console=Console(width=250), errors=Console(stderr=True, width=250))

    @asynccontextmanager
    async def open(self, connection: Connection) -> AsyncIterator[Directory]:
        self.connection = connection
        if not self.reachable:
            raise Unreachable("the fake installation is down")
        yield self

    def put(self, *records: Record) -> None:
        for record in records:
            self.stored[record_key(record)] = record

    async def get(self, key: str) -> Record | None:
        return self.stored.get(key)

    async def records(self, kind: RecordKind) -> list[Record]:
        return [record for key, record in self.stored.items() if key.startswith(f"{kind.value}.")]

    async def send(self, command: AnyDirectoryCommand) -> CommandOutcome | None:
        if command.command_id in self.outcomes:  # JetStream's de-duplication, the stored outcome
            return self.outcomes[command.command_id]
        self.sent.append(command)
        outcome = (self.decide or self._decided)(command)
        if outcome is not None:
            self.outcomes[command.command_id] = outcome
        return outcome

    def _decided(self, command: AnyDirectoryCommand) -> CommandOutcome:
        current = self.stored.get(command.key)
        version = current.version if current else 0
        if command.expected_version is not None and command.expected_version != version:
            return CommandOutcome.of(command, result="refused", refusal=Refusal.STALE, current_version=version)
        asked = _record_of(command)
        if current is not None and current.model_dump(exclude={"version"}) == asked.model_dump(exclude={"version"}):
            return CommandOutcome.of(command, result="committed", version=version)
        self.stored[command.key] = asked.model_copy(update={"version": version + 1})
        return CommandOutcome.of(command, result="committed", version=version + 1)


def _record_of(command: AnyDirectoryCommand) -> Record:
    for name in ("account", "staff", "configuration", "api_key", "support_address"):
        if hasattr(command, name):
            record: Record = getattr(command, name)
            return record
    raise AssertionError(command)
