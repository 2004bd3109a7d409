"""One translation point from what became of a command to the HTTP answer its caller gets.

Committed: 201 for an open (with the new ticket's ``Location``) and for every other command, 200 for a close.
Refused: ``not_found`` 404, ``conflict`` 409 naming the ticket's ``current_status``, ``stale`` 409 naming
its ``current_version``. Not yet decided: 202 with the ``Location`` to ask again.

A caller who polls ``/v1/commands/{id}`` gets the same answer: the outcome names its command's type. (An outcome
stored by an earlier version names none: an open is still recognised, since its ticket id derives from its
command id, and any other committed command answers 200.)

The same Idempotency-Key sent again with another request finds the first request's outcome: its digest of the
request differs, and the caller gets a 422 instead of an outcome that is not theirs.
"""

from __future__ import annotations

from uuid import UUID

from fastapi.responses import JSONResponse
from hostdesk_contracts.commands import CloseTicket, CommandBase, OpenTicket, command_type_token, ticket_id_for
from hostdesk_contracts.outcomes import CommandOutcome, Refusal, request_digest
from hostdesk_contracts.runtime.problems import Conflict, NotFound, ProblemError

from hostdesk_intake.api.problems import IdempotencyKeyReused
from hostdesk_intake.api.schemas import Committed, Pending

TICKET_STATUS_PROBLEM = "urn:hostdesk:problem:ticket-status"
STALE_VERSION_PROBLEM = "urn:hostdesk:problem:stale-version"
POLL_SECONDS = 1
OPEN, CLOSE = command_type_token(OpenTicket), command_type_token(CloseTicket)


def answer(outcome: CommandOutcome, *, command: CommandBase | None) -> JSONResponse:
    """The response for a decided command: ``command`` is the one just sent, ``None`` when a caller polls.

    Raises the problem of a refused command.
    """
    if command is not None:
        _ensure_same_request(outcome, command)
    if outcome.result == "refused":
        raise refusal(outcome)
    body = Committed(
        command_id=outcome.command_id, ticket_id=outcome.ticket_id, number=outcome.number, version=outcome.version
    ).model_dump(mode="json")
    command_type = command_type_token(command) if command is not None else outcome.command_type
    if command_type == OPEN or (command_type is None and _made_by_open(outcome)):
        return JSONResponse(body, status_code=201, headers={"Location": f"/v1/tickets/{outcome.ticket_id}"})
    return JSONResponse(body, status_code=200 if command_type in (CLOSE, None) else 201)


def pending(command_id: str, ticket_id: UUID | None) -> JSONResponse:
    """The command is durable but not decided yet."""
    body = Pending(command_id=command_id, ticket_id=ticket_id).model_dump(mode="json")
    headers = {"Location": f"/v1/commands/{command_id}", "Retry-After": str(POLL_SECONDS)}
    return JSONResponse(body, status_code=202, headers=headers)


def refusal(outcome: CommandOutcome) -> ProblemError:
    """The problem a refused command answers."""
    ids = {"command_id": outcome.command_id, "ticket_id": str(outcome.ticket_id)}
    why = f" {outcome.detail}" if outcome.detail else ""
    if outcome.refusal is Refusal.NOT_FOUND:
        return NotFound(f"There is no ticket {outcome.ticket_id} that you may see.", **ids)
    if outcome.refusal is Refusal.CONFLICT:
        status = outcome.current_status.value if outcome.current_status is not None else "in a status"
        return Conflict(
            f"The ticket is {status}, which does not allow this.{why}",
            type=TICKET_STATUS_PROBLEM,
            current_status=outcome.current_status,
            **ids,
        )
    if outcome.refusal is Refusal.STALE:
        return Conflict(
            f"The ticket is at version {outcome.current_version}, not the version given in If-Match.{why}",
            type=STALE_VERSION_PROBLEM,
            current_version=outcome.current_version,
            **ids,
        )
    return Conflict(f"The tickets service refused this command.{why}", **ids)


def _made_by_open(outcome: CommandOutcome) -> bool:
    return outcome.ticket_id == ticket_id_for(outcome.command_id)


def _ensure_same_request(outcome: CommandOutcome, command: CommandBase) -> None:
    """A key sent again with another request finds the first request's outcome: say so, do not pass it off."""
    digest_differs = outcome.request_digest is not None and outcome.request_digest != request_digest(command)
    if (
        digest_differs
        or outcome.ticket_id != command.ticket_id
        or _made_by_open(outcome) != isinstance(command, OpenTicket)
    ):
        raise IdempotencyKeyReused(
            "This Idempotency-Key was first used for another request, whose outcome this is not. "
            "Use a new key for a new request."
        )
