"""Thin routes: health and readiness, and ``GET /v1/tickets/{ticket_id}/history`` (the ticket and a page of its
timeline as they were at a version or a moment, as the caller's side may see them)."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.runtime.auth import ActorDep
from hostdesk_contracts.runtime.directory import DirectoryUnavailable
from hostdesk_contracts.runtime.health import health_router
from hostdesk_contracts.runtime.problems import NotFound, Unavailable
from pydantic import AwareDatetime

from hostdesk_tickets.api.deps import DirectoryDep, TicketsDep
from hostdesk_tickets.api.schemas import History, position_of
from hostdesk_tickets.service_layer.history import DEFAULT_LIMIT, MAX_LIMIT, AsOf, HistoryNotFound, Page, read_history
from hostdesk_tickets.service_layer.lookups import reach_for

router = APIRouter()
router.include_router(health_router())


@router.get(
    "/v1/tickets/{ticket_id}/history",
    tags=["history"],
    response_model=History,
    responses={
        401: {"model": Problem, "description": "No valid bearer token."},
        404: {
            "model": Problem,
            "description": "No such ticket, not one the caller may see, or not at that version or moment.",
        },
        422: {"model": Problem, "description": "Invalid parameters, each named; or both version and at."},
    },
)
async def ticket_history(
    ticket_id: UUID,
    caller: ActorDep,
    tickets: TicketsDep,
    directory: DirectoryDep,
    version: Annotated[
        int | None,
        Query(
            ge=1,
            description="The ticket as it was at this version; for the requesting side, at this entry of its own "
            "timeline (its position).",
        ),
    ] = None,
    at: Annotated[
        AwareDatetime | None, Query(description="The ticket as it was at this moment (ISO 8601, with its offset).")
    ] = None,
    timeline_limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="At most this many timeline entries in the answer.")
    ] = DEFAULT_LIMIT,
    timeline_cursor: Annotated[
        str | None, Query(description="``timeline_next_cursor`` of the answer before: the next page of the timeline.")
    ] = None,
) -> History:
    """The ticket and a page of its timeline as they were at ``version``, or at the moment ``at``, or (neither)
    now. A page holds ``timeline_limit`` entries, or fewer once their bodies reach about a million characters."""
    if version is not None and at is not None:
        raise RequestValidationError(
            [
                {"type": "value_error", "loc": ("query", name), "msg": "give either version or at, not both"}
                for name in ("version", "at")
            ]
        )
    page = Page(limit=timeline_limit, after=_after(timeline_cursor))
    as_of = AsOf(version=version, moment=at)
    try:
        reach = await reach_for(caller, directory)
    except DirectoryUnavailable as error:
        raise Unavailable("The directory cannot be read yet; try again shortly.") from error
    try:
        then = await asyncio.to_thread(read_history, tickets, ticket_id, caller, as_of, page, reach=reach)
    except HistoryNotFound as missing:
        raise NotFound(str(missing)) from None
    return History.of(then)


def _after(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        return position_of(cursor)
    except ValueError as error:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "timeline_cursor"), "msg": str(error), "input": cursor}]
        ) from error
