"""The port through which intake hands a command to the tickets service and learns what became of it, and
keeps its record of each command (whose it is, what its Idempotency-Key asked) as long as its outcome."""

from __future__ import annotations

from typing import Protocol

from hostdesk_contracts.outcomes import CommandOutcome

from hostdesk_intake.domain.commands import SentCommand
from hostdesk_intake.domain.idempotency import KeyRecord


class BusUnavailable(Exception):
    """The bus could not take the command, or cannot be read: the caller should retry later."""


class CommandBus(Protocol):
    @property
    def ready(self) -> bool:
        """Whether commands can be sent now."""
        ...

    async def send(self, command: SentCommand) -> CommandOutcome | None:
        """Make the command durable, then wait a while for its outcome.

        Raises ``BusUnavailable`` when the command was not acknowledged as stored. Returns ``None`` when it
        is stored but its outcome did not come in time: it will, and ``outcome`` will then find it.
        """
        ...

    async def outcome(self, command_id: str) -> CommandOutcome | None:
        """The recorded outcome of a command, or ``None`` while there is none. Raises ``BusUnavailable``."""
        ...

    async def claim(self, command_id: str, record: KeyRecord) -> KeyRecord | None:
        """Record ``record`` under ``command_id`` unless a record is there already, atomically.

        Returns ``None`` when ``record`` is now the command's, else the record found. Raises ``BusUnavailable``.
        """
        ...

    async def record(self, command_id: str) -> KeyRecord | None:
        """The command's record, ``None`` for an id never recorded (or forgotten). Raises ``BusUnavailable``."""
        ...

    async def stop(self) -> None:
        """Let go of the bus once no request uses it any more (NATS: stop linking, drain the connection)."""
        ...
