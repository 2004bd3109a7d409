"""Handing a request's commands to the bus, and what every command route documents that it may answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse
from hostdesk_contracts.commands import CommandBase
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.runtime.problems import Unavailable

from hostdesk_intake.adapters.command_bus import BusUnavailable, CommandBus
from hostdesk_intake.api.answers import answer, pending
from hostdesk_intake.api.schemas import Pending

RETRY_SECONDS = 2

PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}} for status in (401, 403, 422, 429, 503)
}
PENDING: dict[int | str, dict[str, Any]] = {202: {"model": Pending, "description": "Stored, not yet applied."}}
TICKET_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such ticket that the caller may see."},
    409: {"model": Problem, "description": "The ticket's status or version does not allow the command."},
}
TICKET_COMMAND_ANSWERS = PENDING | TICKET_PROBLEMS | PROBLEMS


async def dispatch(bus: CommandBus, command: CommandBase) -> JSONResponse:
    """Send one command and answer with its outcome: committed, pending, or the problem of its refusal."""
    try:
        outcome = await bus.send(command)
    except BusUnavailable as error:
        raise Unavailable(
            f"The command could not be stored: {error}. Retry it with the same Idempotency-Key.",
            retry_after=RETRY_SECONDS,
        ) from error
    if outcome is None:
        return pending(command.command_id, command.ticket_id)
    return answer(outcome, command=command)


async def dispatch_all(bus: CommandBus, commands: Sequence[CommandBase]) -> list[CommandOutcome | None]:
    """Send the commands at once; their outcomes in the same order, ``None`` for those not decided in time.

    When any could not be stored the request answers 503: those stored are applied, and the same request
    sent again (same Idempotency-Key, so the same command ids) applies the others without repeating them.
    """
    sent = await asyncio.gather(*(bus.send(command) for command in commands), return_exceptions=True)
    outcomes: list[CommandOutcome | None] = []
    for result in sent:
        if isinstance(result, BusUnavailable):
            raise Unavailable(
                f"Not every command could be stored: {result}. Send the same request again with the same "
                "Idempotency-Key: what was stored is applied once.",
                retry_after=RETRY_SECONDS,
            ) from result
        if isinstance(result, BaseException):
            raise result
        outcomes.append(result)
    return outcomes
