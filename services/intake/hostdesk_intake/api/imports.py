"""Import from the previous helpdesk: ``POST /v1/imports/tickets``, one ticket a request, with its number, requester,
posts (their own dates and authors), status and the Message-IDs of the mail already sent about it.

The ticket's id derives from the tenant and its source (``imported_ticket_id_for``): the same ticket imported
again, by any request, is the one imported first (201 with it, nothing more recorded). A number another ticket has
is refused with 409 (import it without ``number`` to give it a new one). The caller is an organisation's own account
or one of its supervisors, or an API key with ``tickets:import``; the requester must be in the directory already
(the control panel's accounts are put first, ``PUT /v1/directory/accounts``). Nobody is mailed: the history is
recorded as imported, from where, and mail starts with the ticket's first post here.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from hostdesk_contracts.commands import ImportedPost, ImportTicket, imported_ticket_id_for

from hostdesk_intake.api.answers import PENDING, PROBLEMS, TICKET_PROBLEMS, dispatched_or_pending, pending, refusal
from hostdesk_intake.api.deps import BusDep, ImportEnvelopeDep
from hostdesk_intake.api.schemas.imports import ImportRequest
from hostdesk_intake.api.schemas.responses import Committed

router = APIRouter(prefix="/v1/imports", tags=["imports"])


@router.post("/tickets", status_code=201, response_model=Committed, responses=PENDING | TICKET_PROBLEMS | PROBLEMS)
async def import_ticket(payload: ImportRequest, envelope: ImportEnvelopeDep, bus: BusDep) -> JSONResponse:
    ticket_id = imported_ticket_id_for(envelope.actor.tenant, payload.source)
    posts = tuple(ImportedPost(**post.model_dump()) for post in payload.posts)
    command = envelope.command(ImportTicket, ticket_id, **(dict(payload) | {"posts": posts}))
    outcome = await dispatched_or_pending(bus, command, envelope=envelope)
    if outcome is None:
        return pending(command.command_id, ticket_id)
    if outcome.result == "refused":
        raise refusal(outcome)
    body = Committed(command_id=outcome.command_id, ticket_id=ticket_id, number=outcome.number, version=outcome.version)
    location = {"Location": f"/v1/tickets/{ticket_id}"}
    return JSONResponse(body.model_dump(mode="json"), status_code=201, headers=location)
