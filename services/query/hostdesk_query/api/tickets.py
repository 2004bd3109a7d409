"""``GET /v1/tickets`` and ``GET /v1/tickets/{ticket_id}``."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from hostdesk_contracts.base import Status
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.runtime.problems import NotFound

from hostdesk_query.api.deps import NoticesDep, ReaderDep, ScopeDep, SettingsDep
from hostdesk_query.api.schemas import TicketDetailOut, TicketOut, TicketPage, TimelineOrder
from hostdesk_query.domain.cursor import InvalidCursor, PageCursor, decode_cursor, encode_cursor
from hostdesk_query.reading import Wait, read_ticket

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])

_PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "No valid bearer token."},
    422: {"model": Problem, "description": "Invalid parameters, each named."},
    503: {"model": Problem, "description": "The read model's database does not answer."},
}


def _cursor(text: str | None) -> PageCursor | None:
    if text is None:
        return None
    try:
        return decode_cursor(text)
    except InvalidCursor as error:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "cursor"), "msg": str(error), "input": text}]
        ) from error


@router.get("", response_model=TicketPage, responses=_PROBLEMS)
async def list_tickets(
    reader: ReaderDep,
    scope: ScopeDep,
    status: Annotated[list[Status] | None, Query(description="Only tickets in these statuses (repeatable).")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(description="``next_cursor`` of the page before.")] = None,
) -> TicketPage:
    """The tickets the caller may read, the most recently updated first."""
    tickets = await reader.list_tickets(scope, statuses=frozenset(status or ()), after=_cursor(cursor), limit=limit + 1)
    page = tickets[:limit]
    next_cursor = None
    if len(tickets) > limit:
        last = page[-1]
        next_cursor = encode_cursor(PageCursor(updated_at=last.updated_at, ticket_id=last.ticket_id))
    return TicketPage(items=tuple(TicketOut.of(ticket) for ticket in page), next_cursor=next_cursor)


@router.get(
    "/{ticket_id}",
    response_model=TicketDetailOut,
    responses={**_PROBLEMS, 404: {"model": Problem, "description": "No such ticket, or not one the caller may read."}},
)
async def get_ticket(
    ticket_id: UUID,
    reader: ReaderDep,
    notices: NoticesDep,
    scope: ScopeDep,
    settings: SettingsDep,
    order: Annotated[TimelineOrder, Query(description="The timeline oldest first (asc) or newest first.")] = (
        TimelineOrder.ASC
    ),
    min_version: Annotated[
        int | None, Query(ge=1, description="Wait (a little) until the ticket has reached this version.")
    ] = None,
) -> TicketDetailOut:
    """The ticket and its timeline. With ``min_version``, waits up to a couple of seconds for the read model to
    reach it, then answers what it has; the ``version`` field says which."""
    wait = None
    if min_version is not None:
        wait = Wait(
            min_version=min_version,
            timeout=settings.read_your_writes_timeout_seconds,
            poll=settings.read_your_writes_poll_seconds,
        )
    view = await read_ticket(reader, notices, scope, ticket_id, newest_first=order is TimelineOrder.DESC, wait=wait)
    if view is None:
        raise NotFound(f"There is no ticket {ticket_id}.")
    return TicketDetailOut.of_view(view)
