"""The ticket commands and their outcomes. Every route needs a bearer token and counts against its rate."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi import Body as BodyParam
from fastapi.responses import JSONResponse
from hostdesk_contracts.commands import CommandBase
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.runtime.problems import NotFound, Unavailable

from hostdesk_intake.adapters.command_bus import BusUnavailable, CommandBus
from hostdesk_intake.api.answers import answer, pending
from hostdesk_intake.api.dependencies import BusDep, CallerDep, EnvelopeDep, TicketEnvelopeDep
from hostdesk_intake.api.schemas import CloseRequest, Committed, OpenTicketRequest, Pending, ReplyRequest

router = APIRouter(prefix="/v1")

COMMAND_ID_PATTERN = r"^[A-Za-z0-9_=-]{1,200}$"
RETRY_SECONDS = 2

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}} for status in (401, 422, 429, 503)
}
_PENDING: dict[int | str, dict[str, Any]] = {202: {"model": Pending, "description": "Stored, not yet applied."}}
_TICKET_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such ticket that the caller may see."},
    409: {"model": Problem, "description": "The ticket's status or version does not allow the command."},
}


@router.post("/tickets", status_code=201, response_model=Committed, responses=_PENDING | _PROBLEMS, tags=["tickets"])
async def open_ticket(payload: OpenTicketRequest, envelope: EnvelopeDep, bus: BusDep) -> JSONResponse:
    return await _dispatch(bus, payload.to_command(envelope))


@router.post(
    "/tickets/{ticket_id}/replies",
    status_code=201,
    response_model=Committed,
    responses=_PENDING | _TICKET_PROBLEMS | _PROBLEMS,
    tags=["tickets"],
)
async def post_reply(ticket_id: UUID, payload: ReplyRequest, envelope: TicketEnvelopeDep, bus: BusDep) -> JSONResponse:
    return await _dispatch(bus, payload.to_command(envelope, ticket_id))


@router.post(
    "/tickets/{ticket_id}/close",
    response_model=Committed,
    responses=_PENDING | _TICKET_PROBLEMS | _PROBLEMS,
    tags=["tickets"],
)
async def close_ticket(
    ticket_id: UUID,
    envelope: TicketEnvelopeDep,
    bus: BusDep,
    payload: Annotated[CloseRequest | None, BodyParam()] = None,
) -> JSONResponse:
    return await _dispatch(bus, (payload or CloseRequest()).to_command(envelope, ticket_id))


@router.get(
    "/commands/{command_id}",
    response_model=Committed,
    responses=_PENDING | _TICKET_PROBLEMS | _PROBLEMS,
    tags=["commands"],
)
async def command_outcome(
    command_id: Annotated[str, Path(pattern=COMMAND_ID_PATTERN)], caller: CallerDep, bus: BusDep
) -> JSONResponse:
    """What became of a command that answered 202: the answer its request would have had, once decided.

    Missing means not decided yet (202): intake cannot tell an unknown id from a pending one. An outcome
    of another account's command is 404, as if it did not exist.
    """
    try:
        outcome = await bus.outcome(command_id)
    except BusUnavailable as error:
        raise Unavailable(f"Outcomes cannot be read now: {error}.", retry_after=RETRY_SECONDS) from error
    if outcome is None:
        return pending(command_id, None)
    if outcome.account_id != caller.account_id:
        raise NotFound(f"There is no command {command_id} of yours.")
    return answer(outcome, command=None)


async def _dispatch(bus: CommandBus, command: CommandBase) -> JSONResponse:
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
