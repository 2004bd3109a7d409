"""One translation point from what became of a command to the HTTP answer its caller gets.

Committed: 201 for an open (with the new ticket's ``Location``) and for every other command, 200 for a close.
Refused: ``not_found`` 404, ``conflict`` 409 naming the ticket's ``current_status``, ``stale`` 409 naming
its ``current_version``, ``invalid`` 422 naming the field the rules refuse (a customer's sixth CC recipient, a
merge of two requesters' tickets), ``rate_limited`` 429 with ``Retry-After`` (a flood of posts to one ticket).
Not yet decided: 202 with the ``Location`` to ask again. Not stored: 503 with ``Retry-After``. An open or a
reply past its caller's limit, over every replica: 429 with ``Retry-After``, nothing recorded.

A directory command answers 200 once committed (the record's key and version), and its refusals name the
record: ``not_found`` is a record the caller may not change (or none), never a hint which.

A caller who polls ``/v1/commands/{id}`` gets the same answer: the outcome names its command's type. (An outcome
stored by an earlier version names none: an open is still recognised, since its ticket id derives from its
command id, and any other committed command answers 200.) A command id that intake did not record as the
caller's (another account's, another tenant's, or none at all) is 404, all alike.

The same Idempotency-Key sent again with another request, while the first request's outcome is kept, is a 422:
the caller never gets an outcome that is not theirs, and the other request is not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid5

from fastapi.responses import JSONResponse
from hostdesk_contracts.base import Actor
from hostdesk_contracts.commands import ArchiveTicket, CloseTicket, CommandBase, OpenTicket, command_type_token
from hostdesk_contracts.directory import DirectoryCommand
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.runtime.problems import Conflict, NotFound, ProblemError, TooManyRequests, Unavailable

from hostdesk_intake.adapters.command_bus import BusUnavailable, CommandBus
from hostdesk_intake.api.problems import IdempotencyKeyReused, InvalidField, LimitReached
from hostdesk_intake.api.schemas.responses import (
    ArchiveResult,
    BulkArchiveAnswer,
    Committed,
    DirectoryCommitted,
    DirectoryResult,
    Pending,
)
from hostdesk_intake.domain.commands import IDEMPOTENCY_NAMESPACE, Envelope, SentCommand, made_by_open
from hostdesk_intake.service_layer.dispatch import (
    AnotherRequestsOutcome,
    NotYourCommand,
    dispatch,
    dispatch_all,
    outcome_of,
)
from hostdesk_intake.service_layer.limits import Admission, OverLimit

TICKET_STATUS_PROBLEM = "urn:hostdesk:problem:ticket-status"
STALE_VERSION_PROBLEM = "urn:hostdesk:problem:stale-version"
POLL_SECONDS = 1
RETRY_SECONDS = 2
OPEN, CLOSE = command_type_token(OpenTicket), command_type_token(CloseTicket)

# What the command routes document that they may answer, besides their success.
PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}} for status in (401, 403, 422, 429, 503)
}
PENDING: dict[int | str, dict[str, Any]] = {202: {"model": Pending, "description": "Stored, not yet applied."}}
TICKET_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such ticket that the caller may see."},
    409: {"model": Problem, "description": "The ticket's status or version does not allow the command."},
}
TICKET_COMMAND_ANSWERS = PENDING | TICKET_PROBLEMS | PROBLEMS


async def answer_command(
    bus: CommandBus, command: CommandBase, *, envelope: Envelope, admission: Admission | None = None
) -> JSONResponse:
    """Dispatch one command and answer with its outcome: committed, pending, or the problem of its refusal.
    With an ``admission``, the request is counted against its caller's limit first."""
    outcome = await dispatched_or_pending(bus, command, envelope=envelope, admission=admission)
    if outcome is None:
        return pending(command.command_id, command.ticket_id)
    return answer(outcome, command=command)


async def answer_directory(bus: CommandBus, command: DirectoryCommand, *, envelope: Envelope) -> JSONResponse:
    """Dispatch one directory command: 200 with the record's version once committed, 202 while pending."""
    outcome = await dispatched_or_pending(bus, command, envelope=envelope)
    if outcome is None:
        return pending(command.command_id, None)
    if outcome.result == "refused":
        raise directory_refusal(outcome)
    body = DirectoryCommitted(command_id=outcome.command_id, key=command.key, version=outcome.version)
    return JSONResponse(body.model_dump(mode="json"))


async def answer_directory_all(
    bus: CommandBus, layers: Sequence[Sequence[DirectoryCommand]], *, envelope: Envelope
) -> list[DirectoryResult]:
    """Dispatch the commands of one request layer after layer (a layer once the one before is decided, so that
    a parent is put before its children), and say what became of each, layer by layer."""
    results: list[DirectoryResult] = []
    for number, layer in enumerate(layers):
        # Each layer's own request id, derived from the request's (a key of the outcomes bucket: no ':').
        request_id = envelope.command_id if number == 0 else layer_request_id(envelope.command_id, number)
        outcomes = await _dispatched_all(bus, layer, request_id=request_id, envelope=envelope)
        results.extend(DirectoryResult.of(each, outcome) for each, outcome in zip(layer, outcomes, strict=True))
    return results


def layer_request_id(command_id: str, layer: int) -> str:
    return str(uuid5(IDEMPOTENCY_NAMESPACE, f"{command_id}:layer:{layer}"))


async def dispatched_or_pending(
    bus: CommandBus, command: SentCommand, *, envelope: Envelope, admission: Admission | None = None
) -> CommandOutcome | None:
    """The command's outcome, ``None`` while pending; the problem when it could not be stored, or its caller is
    past its limit."""
    try:
        return await dispatch(bus, command, digest=envelope.digest, admission=admission)
    except OverLimit as error:
        raise limit_reached(error) from error
    except BusUnavailable as error:
        raise Unavailable(
            f"The command could not be stored: {error}. Retry it with the same Idempotency-Key.",
            retry_after=RETRY_SECONDS,
        ) from error
    except AnotherRequestsOutcome as error:
        raise _key_reused() from error


async def answer_archives(
    bus: CommandBus, commands: Sequence[ArchiveTicket], *, envelope: Envelope
) -> BulkArchiveAnswer:
    """Dispatch the archive of each ticket at once and answer with what became of each, in the same order."""
    outcomes = await _dispatched_all(bus, commands, request_id=envelope.command_id, envelope=envelope)
    return BulkArchiveAnswer(results=[ArchiveResult.of(*each) for each in zip(commands, outcomes, strict=True)])


async def _dispatched_all(
    bus: CommandBus, commands: Sequence[SentCommand], *, request_id: str, envelope: Envelope
) -> list[CommandOutcome | None]:
    try:
        return await dispatch_all(bus, commands, request_id=request_id, actor=envelope.actor, digest=envelope.digest)
    except AnotherRequestsOutcome as error:
        raise _key_reused() from error
    except BusUnavailable as error:
        raise Unavailable(
            f"Not every command could be stored: {error}. Send the same request again with the same "
            "Idempotency-Key: what was stored is applied once.",
            retry_after=RETRY_SECONDS,
        ) from error


async def answer_poll(bus: CommandBus, command_id: str, *, caller: Actor) -> JSONResponse:
    """The answer the request of the caller's command would have had, once decided; 202 until then."""
    try:
        outcome = await outcome_of(bus, command_id, caller=caller)
    except BusUnavailable as error:
        raise Unavailable(f"Outcomes cannot be read now: {error}.", retry_after=RETRY_SECONDS) from error
    except NotYourCommand as error:
        raise NotFound(f"There is no command {command_id} of yours.") from error
    if outcome is None:
        return pending(command_id, None)
    return answer(outcome, command=None)


_LIMITED = {"open": "open {limit} tickets", "reply": "post {limit} replies"}
_PER = {3_600: "an hour", 60: "a minute"}


def limit_reached(error: OverLimit) -> LimitReached:
    """The 429 of a request past its caller's limit: whose limit, what it allows, and when the next goes through."""
    quota = error.quota
    who = "API key" if error.counted.kind == "key" else "account"
    allowed = _LIMITED[quota.action.value].format(limit=quota.limit)
    per = _PER.get(quota.window_seconds, f"in {quota.window_seconds} seconds")
    return LimitReached(
        f"This {who} may {allowed} {per}; nothing was recorded. Send it again after the seconds in Retry-After.",
        retry_after_seconds=error.retry_after,
        limit=quota.limit,
        window_seconds=quota.window_seconds,
    )


def _key_reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        "This Idempotency-Key was first used for another request, whose outcome is not this one's. "
        "Use a new key for a new request."
    )


def answer(outcome: CommandOutcome, *, command: CommandBase | None) -> JSONResponse:
    """The response for a decided command: ``command`` is the one just sent, ``None`` when a caller polls.

    Raises the problem of a refused command.
    """
    if outcome.result == "refused":
        raise refusal(outcome)
    body = Committed(
        command_id=outcome.command_id, ticket_id=outcome.ticket_id, number=outcome.number, version=outcome.version
    ).model_dump(mode="json")
    command_type = command_type_token(command) if command is not None else outcome.command_type
    if command_type == OPEN or (command_type is None and made_by_open(outcome)):
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
    if outcome.refusal is Refusal.INVALID:
        return InvalidField(outcome.field or "body", outcome.detail or "The tickets service refused this value.", **ids)
    if outcome.refusal is Refusal.RATE_LIMITED:
        # The refusal is stored under the command's id: the same Idempotency-Key would be told it again.
        return TooManyRequests(
            f"Too many posts to this ticket.{why} Send it again later, with a new Idempotency-Key.",
            retry_after_seconds=outcome.retry_after or 60,
        )
    return Conflict(f"The tickets service refused this command.{why}", **ids)


def directory_refusal(outcome: CommandOutcome) -> ProblemError:
    """The problem a refused directory command answers, naming the record it is about."""
    ids = {"command_id": outcome.command_id, "key": outcome.key}
    why = f" {outcome.detail}" if outcome.detail else ""
    if outcome.refusal is Refusal.NOT_FOUND:
        return NotFound(f"There is no {outcome.key} that you may change.", **ids)
    if outcome.refusal is Refusal.STALE:
        return Conflict(
            f"The record is at version {outcome.current_version}, not the version given in If-Match.{why}",
            type=STALE_VERSION_PROBLEM,
            current_version=outcome.current_version,
            **ids,
        )
    if outcome.refusal is Refusal.INVALID:
        return InvalidField(outcome.field or "body", outcome.detail or "The directory refused this value.", **ids)
    return Conflict(f"The directory refused this change.{why}", **ids)
