"""Intake's use cases: hand a request's commands to the tickets service and learn what became of them.

A command is durable once ``dispatch`` returns; its outcome comes with it or later, through ``outcome_of``.
The same Idempotency-Key makes the same command id, so the outcome found for an id may be that of the first
request sent with the key: it answers this request only when it is this request's own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hostdesk_contracts.base import Actor
from hostdesk_contracts.commands import CommandBase
from hostdesk_contracts.outcomes import CommandOutcome

from hostdesk_intake.adapters.command_bus import CommandBus
from hostdesk_intake.domain.commands import is_outcome_of


class AnotherRequestsOutcome(Exception):
    """The command's id was first used (by the same Idempotency-Key) for another request, whose outcome this is."""

    def __init__(self, command: CommandBase) -> None:
        super().__init__(f"the outcome of {command.command_id} is another request's")
        self.command = command


class NotYourCommand(Exception):
    """The command is another account's: to the caller it does not exist."""

    def __init__(self, command_id: str) -> None:
        super().__init__(f"command {command_id} is not the caller's")
        self.command_id = command_id


async def dispatch(bus: CommandBus, command: CommandBase) -> CommandOutcome | None:
    """Make the command durable and wait a while for its outcome: ``None`` when it is not decided in time.

    Raises ``BusUnavailable`` when the command was not stored, ``AnotherRequestsOutcome`` when the outcome
    found for its id is another request's.
    """
    outcome = await bus.send(command)
    if outcome is not None and not is_outcome_of(outcome, command):
        raise AnotherRequestsOutcome(command)
    return outcome


async def dispatch_all(bus: CommandBus, commands: Sequence[CommandBase]) -> list[CommandOutcome | None]:
    """Send the commands at once; their outcomes in the same order, ``None`` for those not decided in time.

    Raises ``BusUnavailable`` when any could not be stored: those stored are applied, and the same commands
    sent again (the same ids) apply the others without repeating them.
    """
    sent = await asyncio.gather(*(bus.send(command) for command in commands), return_exceptions=True)
    outcomes: list[CommandOutcome | None] = []
    for result in sent:
        if isinstance(result, BaseException):
            raise result
        outcomes.append(result)
    return outcomes


async def outcome_of(bus: CommandBus, command_id: str, *, caller: Actor) -> CommandOutcome | None:
    """The outcome of one of the caller's commands, ``None`` while undecided (or unknown: the two look alike).

    Raises ``BusUnavailable`` when outcomes cannot be read, ``NotYourCommand`` for another account's command.
    """
    outcome = await bus.outcome(command_id)
    if outcome is not None and outcome.account_id != caller.account_id:
        raise NotYourCommand(command_id)
    return outcome
