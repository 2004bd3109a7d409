"""Opening a ticket, its conversation (replies, close), and the outcomes of commands.

Every route needs a bearer token and counts against its rate.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi import Body as BodyParam
from fastapi.responses import JSONResponse

from hostdesk_intake.api.answers import PENDING, PROBLEMS, TICKET_COMMAND_ANSWERS, answer_command, answer_poll
from hostdesk_intake.api.deps import BusDep, CallerDep, EnvelopeDep, StatusLabelsDep, TicketEnvelopeDep
from hostdesk_intake.api.schemas import CloseRequest, Committed, OpenTicketRequest, ReplyRequest

router = APIRouter(prefix="/v1")

COMMAND_ID_PATTERN = r"^[A-Za-z0-9_=-]{1,200}$"


@router.post("/tickets", status_code=201, response_model=Committed, responses=PENDING | PROBLEMS, tags=["tickets"])
async def open_ticket(payload: OpenTicketRequest, envelope: EnvelopeDep, bus: BusDep) -> JSONResponse:
    return await answer_command(bus, payload.to_command(envelope))


@router.post(
    "/tickets/{ticket_id}/replies",
    status_code=201,
    response_model=Committed,
    responses=TICKET_COMMAND_ANSWERS,
    tags=["tickets"],
)
async def post_reply(
    ticket_id: UUID, payload: ReplyRequest, envelope: TicketEnvelopeDep, labels: StatusLabelsDep, bus: BusDep
) -> JSONResponse:
    """A reply may set the status it leaves the ticket in, by name or by the provider's label."""
    return await answer_command(bus, payload.to_command(envelope, ticket_id, labels=labels))


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
    return await answer_command(bus, (payload or CloseRequest()).to_command(envelope, ticket_id))


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

    Missing means not decided yet (202): intake cannot tell an unknown id from a pending one. An outcome
    of another account's command is 404, as if it did not exist.
    """
    return await answer_poll(bus, command_id, caller=caller)
