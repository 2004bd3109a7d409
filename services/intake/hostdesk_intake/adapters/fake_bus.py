"""An in-memory command bus for unit tests: it plays a tiny tickets service, or answers as a test decides."""

from __future__ import annotations

import re
from collections.abc import Callable
from uuid import UUID

from hostdesk_contracts.commands import OpenTicket
from hostdesk_contracts.directory import DirectoryCommand
from hostdesk_contracts.outcomes import CommandOutcome, Refusal

from hostdesk_intake.adapters.command_bus import BusUnavailable
from hostdesk_intake.domain.commands import SentCommand
from hostdesk_intake.domain.idempotency import KeyRecord

# What a key of a NATS key-value bucket may hold (nats-py refuses any other before sending).
_KV_KEY = re.compile(r"[-/_=.a-zA-Z0-9]+")
Decide = Callable[[SentCommand], CommandOutcome | None]


class FakeCommandBus:
    """Each command id is taken once, like JetStream's de-duplication; sending it again answers the outcome
    recorded for it, like intake's look in the outcomes bucket. ``decide`` returning ``None`` leaves the
    command pending until the test calls ``complete``."""

    def __init__(self, decide: Decide | None = None) -> None:
        self.sent: list[SentCommand] = []
        self.outcomes: dict[str, CommandOutcome] = {}
        self.records: dict[str, KeyRecord] = {}
        self.reachable = True
        self._decide = decide or self._commit
        self._versions: dict[UUID, int] = {}
        self._numbers: dict[UUID, int] = {}
        self._records: dict[str, int] = {}  # directory record key -> its version

    @property
    def ready(self) -> bool:
        return self.reachable

    async def send(self, command: SentCommand) -> CommandOutcome | None:
        if not self.reachable:
            raise BusUnavailable("the fake bus is unreachable")
        if any(sent.command_id == command.command_id for sent in self.sent):
            return self.outcomes.get(command.command_id)
        self.sent.append(command)
        outcome = self._decide(command)
        if outcome is not None:
            self.complete(outcome)
        return outcome

    async def outcome(self, command_id: str) -> CommandOutcome | None:
        if not self.reachable:
            raise BusUnavailable("the fake bus is unreachable")
        return self.outcomes.get(command_id)

    async def claim(self, command_id: str, record: KeyRecord) -> KeyRecord | None:
        if not self.reachable:
            raise BusUnavailable("the fake bus is unreachable")
        if not _KV_KEY.fullmatch(command_id):  # as the outcomes bucket refuses the key of its record
            raise BusUnavailable(f"the command could not be recorded (InvalidKeyError: {command_id!r})")
        if command_id in self.records:
            return self.records[command_id]
        self.records[command_id] = record
        return None

    async def record(self, command_id: str) -> KeyRecord | None:
        if not self.reachable:
            raise BusUnavailable("the fake bus is unreachable")
        return self.records.get(command_id)

    async def stop(self) -> None:
        """Nothing to let go of."""

    def complete(self, outcome: CommandOutcome) -> None:
        """The tickets service has decided: record the outcome where a caller who comes back finds it."""
        self.outcomes[outcome.command_id] = outcome

    def _commit(self, command: SentCommand) -> CommandOutcome:
        if isinstance(command, DirectoryCommand):
            version = self._records[command.key] = self._records.get(command.key, 0) + 1
            return CommandOutcome.of(command, key=command.key, result="committed", version=version)
        ticket_id = command.ticket_id
        if isinstance(command, OpenTicket):
            self._numbers.setdefault(ticket_id, 100_000 + len(self._numbers))
            self._versions.setdefault(ticket_id, 1)
        elif ticket_id not in self._versions:
            return CommandOutcome.of(
                command,
                ticket_id=ticket_id,
                result="refused",
                refusal=Refusal.NOT_FOUND,
            )
        else:
            self._versions[ticket_id] += 1
        return CommandOutcome.of(
            command,
            ticket_id=ticket_id,
            result="committed",
            version=self._versions[ticket_id],
            number=self._numbers[ticket_id],
        )
