"""Every route of intake: opening a ticket, its conversation (replies, close), what staff and requesters do to
it besides writing in it (status, assignment, fields, rating, archive of one or many, merge), the status labels,
and the outcomes of commands.

Every route needs a bearer token and counts against its rate; opening a ticket and posting a reply count
against their caller's limits too, over every replica (429 past them). Every command takes ``Idempotency-Key`` and, on
one ticket, ``If-Match``, and answers 201 once committed (200 for a close), 202 while pending, 404 or 409
problems from the tickets service. Who may assign, merge or change a ticket is the tickets service's to decide,
by the side the caller is on: the handling side (its staff, or the account it is addressed to) may; the requesting
side is refused (409); anyone else is told there is no such ticket (404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi import Body as BodyParam
from fastapi.responses import JSONResponse

from hostdesk_intake.api.answers import (
    PENDING,
    PROBLEMS,
    TICKET_COMMAND_ANSWERS,
    answer_archives,
    answer_command,
    answer_poll,
)
from hostdesk_intake.api.attachments import attached_files
from hostdesk_intake.api.deps import (
    BusDep,
    CallerDep,
    EnvelopeDep,
    OpeningDep,
    ReplyingDep,
    StatusLabelsDep,
    TicketEnvelopeDep,
)
from hostdesk_intake.api.schemas.actions import (
    AssigneeRequest,
    BulkArchiveRequest,
    ChangeStatusRequest,
    MergeRequest,
    RatingRequest,
    UpdateTicketRequest,
    archive_command,
    pickup_command,
    resolve_command,
    unassign_command,
)
from hostdesk_intake.api.schemas.conversation import CloseRequest, OpenTicketRequest, ReplyRequest
from hostdesk_intake.api.schemas.responses import BulkArchiveAnswer, Committed, StatusLabelsAnswer

router = APIRouter(prefix="/v1")

COMMAND_ID_PATTERN = r"^[A-Za-z0-9_=-]{1,200}$"

Route = TypeVar("Route", bound=Callable[..., Any])


def ticket_command(method: str, path: str) -> Callable[[Route], Route]:
    """A route that sends one command about the ticket in its path."""
    return router.api_route(
        f"/tickets/{{ticket_id}}{path}",
        methods=[method],
        status_code=201,
        response_model=Committed,
        responses=TICKET_COMMAND_ANSWERS,
        tags=["tickets"],
    )


@router.post("/tickets", status_code=201, response_model=Committed, responses=PENDING | PROBLEMS, tags=["tickets"])
async def open_ticket(payload: OpenTicketRequest, posting: OpeningDep) -> JSONResponse:
    """Counted against the caller's tickets an hour (its account's, or its API key's). ``attachments`` names
    files uploaded first (``POST /v1/attachments``)."""
    envelope = posting.envelope
    attachments = await attached_files(payload.attachments, envelope=envelope, uploads=posting.uploads)
    command = payload.to_command(envelope, attachments=attachments)
    return await answer_command(posting.bus, command, envelope=envelope, admission=posting.admission)


@ticket_command("POST", "/replies")
async def post_reply(ticket_id: UUID, payload: ReplyRequest, posting: ReplyingDep) -> JSONResponse:
    """A reply may set the status it leaves the ticket in, by name or by the provider's label. Counted against
    the caller's replies a minute (its account's, or its API key's). ``attachments`` names files uploaded first
    (``POST /v1/attachments``); an internal note's are the handling side's only."""
    envelope = posting.envelope
    attachments = await attached_files(payload.attachments, envelope=envelope, uploads=posting.uploads)
    command = payload.to_command(envelope, ticket_id, labels=posting.labels, attachments=attachments)
    return await answer_command(posting.bus, command, envelope=envelope, admission=posting.admission)


@router.post(
    "/tickets/{ticket_id}/close",
    response_model=Committed,
    responses=TICKET_COMMAND_ANSWERS,
    tags=["tickets"],
)
async def close_ticket(
    ticket_id: UUID,
    envelope: TicketEnvelopeDep,
    bus: BusDep,
    payload: Annotated[CloseRequest | None, BodyParam()] = None,
) -> JSONResponse:
    return await answer_command(bus, (payload or CloseRequest()).to_command(envelope, ticket_id), envelope=envelope)


@router.get(
    "/commands/{command_id}",
    response_model=Committed,
    responses=TICKET_COMMAND_ANSWERS,
    tags=["commands"],
)
async def command_outcome(
    command_id: Annotated[str, Path(pattern=COMMAND_ID_PATTERN)], caller: CallerDep, bus: BusDep
) -> JSONResponse:
    """What became of a command that answered 202: the answer its request would have had, once decided.

    A command sent but not decided yet is 202. An id that is not one of the caller's commands (another
    account's or another tenant's, or none) is 404, all alike: the answer never tells whether it exists.
    """
    return await answer_poll(bus, command_id, caller=caller)


@ticket_command("POST", "/status")
async def change_status(
    ticket_id: UUID, payload: ChangeStatusRequest, envelope: TicketEnvelopeDep, labels: StatusLabelsDep, bus: BusDep
) -> JSONResponse:
    """Set the status by its canonical name or by the provider's label. Staff set open, answered,
    in_progress, on_hold or resolved; the requester may only mark the ticket resolved."""
    return await answer_command(bus, payload.to_command(envelope, ticket_id, labels=labels), envelope=envelope)


@router.get("/status-labels", response_model=StatusLabelsAnswer, responses=PROBLEMS, tags=["tickets"])
async def status_labels(caller: CallerDep, labels: StatusLabelsDep) -> StatusLabelsAnswer:
    """The provider's own status labels that the caller's tenant may give instead of a canonical status."""
    return StatusLabelsAnswer.of(caller.tenant, labels.of(caller.tenant))


@ticket_command("POST", "/resolve")
async def mark_resolved(ticket_id: UUID, envelope: TicketEnvelopeDep, bus: BusDep) -> JSONResponse:
    """Mark the ticket resolved, from either side."""
    return await answer_command(bus, resolve_command(envelope, ticket_id), envelope=envelope)


@ticket_command("POST", "/pickup")
async def pick_up(ticket_id: UUID, envelope: TicketEnvelopeDep, bus: BusDep) -> JSONResponse:
    """Assign the ticket to oneself."""
    return await answer_command(bus, pickup_command(envelope, ticket_id), envelope=envelope)


@ticket_command("PUT", "/assignee")
async def assign(ticket_id: UUID, payload: AssigneeRequest, envelope: TicketEnvelopeDep, bus: BusDep) -> JSONResponse:
    """Assign the ticket to a staff member."""
    return await answer_command(bus, payload.to_command(envelope, ticket_id), envelope=envelope)


@ticket_command("DELETE", "/assignee")
async def unassign(ticket_id: UUID, envelope: TicketEnvelopeDep, bus: BusDep) -> JSONResponse:
    """Leave the ticket unassigned."""
    return await answer_command(bus, unassign_command(envelope, ticket_id), envelope=envelope)


@ticket_command("PATCH", "")
async def update(
    ticket_id: UUID, payload: UpdateTicketRequest, envelope: TicketEnvelopeDep, bus: BusDep
) -> JSONResponse:
    """Change priority, department, category, CC recipients or tags. The requester may change only CC."""
    return await answer_command(bus, payload.to_command(envelope, ticket_id), envelope=envelope)


@ticket_command("POST", "/rating")
async def rate(ticket_id: UUID, payload: RatingRequest, envelope: TicketEnvelopeDep, bus: BusDep) -> JSONResponse:
    """The requester rates the support of a resolved or closed ticket, once per resolution."""
    return await answer_command(bus, payload.to_command(envelope, ticket_id), envelope=envelope)


@ticket_command("POST", "/archive")
async def archive(ticket_id: UUID, envelope: TicketEnvelopeDep, bus: BusDep) -> JSONResponse:
    """Move an answered or resolved ticket to the archive."""
    return await answer_command(bus, archive_command(envelope, ticket_id), envelope=envelope)


@ticket_command("POST", "/merge")
async def merge(ticket_id: UUID, payload: MergeRequest, envelope: TicketEnvelopeDep, bus: BusDep) -> JSONResponse:
    """Merge this ticket into another: the other gains its posts, this one is closed with a link to it."""
    return await answer_command(bus, payload.to_command(envelope, ticket_id), envelope=envelope)


@router.post("/tickets/archive", response_model=BulkArchiveAnswer, responses=PROBLEMS, tags=["tickets"])
async def archive_many(payload: BulkArchiveRequest, envelope: EnvelopeDep, bus: BusDep) -> BulkArchiveAnswer:
    """Archive several tickets at once, confirmed. Answers 200 with what became of each, in request order:
    archived, refused (with why and the ticket's status) or pending (ask its command's link later)."""
    return await answer_archives(bus, payload.to_commands(envelope), envelope=envelope)
