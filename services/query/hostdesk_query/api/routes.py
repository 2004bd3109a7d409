"""The routes: ``GET /v1/tickets``, its counts ``GET /v1/tickets/counts``, ``GET /v1/tickets/{ticket_id}`` and a
post's file, ``GET /v1/tickets/{ticket_id}/attachments/{attachment_id}`` (``/healthz`` and ``/readyz`` come from
the shared health router)."""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from hostdesk_contracts.attachments import ATTACHMENT_ID_PATTERN
from hostdesk_contracts.problems import Problem
from hostdesk_contracts.runtime.problems import NotFound

from hostdesk_query.api.deps import BlobsDep, NoticesDep, ReachDep, ReaderDep, SettingsDep
from hostdesk_query.api.download_headers import download_headers
from hostdesk_query.api.list_filters import TicketFilterDep, invalid
from hostdesk_query.api.schemas import TicketCountsOut, TicketDetailOut, TicketOut, TicketPage, TimelineOrder
from hostdesk_query.domain.cursor import (
    InvalidCursor,
    PageCursor,
    TimelineCursor,
    decode_cursor,
    decode_timeline_cursor,
    encode_cursor,
    encode_timeline_cursor,
)
from hostdesk_query.domain.listing import ListOrder, sort_key
from hostdesk_query.domain.paging import DEFAULT_LIMIT, MAX_LIMIT, TimelineWindow, next_cursor
from hostdesk_query.domain.visibility import handles
from hostdesk_query.service_layer.downloads import download
from hostdesk_query.service_layer.reading import Wait, read_ticket

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])

PROBLEMS: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "No valid bearer token."},
    422: {"model": Problem, "description": "Invalid parameters, each named."},
    503: {"model": Problem, "description": "The read model's database does not answer."},
}


def _cursor(text: str | None, order: ListOrder) -> PageCursor | None:
    if text is None:
        return None
    try:
        return decode_cursor(text, order=order)
    except InvalidCursor as error:
        raise invalid("cursor", str(error), text) from error


def _timeline_cursor(text: str | None) -> TimelineCursor | None:
    if text is None:
        return None
    try:
        return decode_timeline_cursor(text)
    except InvalidCursor as error:
        raise invalid("timeline_cursor", str(error), text) from error


@router.get("", response_model=TicketPage, response_model_exclude_unset=True, responses=PROBLEMS)
async def list_tickets(
    reader: ReaderDep,
    reach: ReachDep,
    filters: TicketFilterDep,
    order: Annotated[
        ListOrder,
        Query(
            description="``updated``: the most recently updated first; ``priority``: the most urgent first, then"
            " the longest waiting; ``created``: the newest first."
        ),
    ] = ListOrder.UPDATED,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(description="``next_cursor`` of the page before, in the same order.")] = None,
) -> TicketPage:
    """The tickets the caller may read, in ``order``: those it requested and those addressed to the organisation
    it handles for. Each shows the handling side's own fields (assignee, tags) only where the caller handles it.
    Pages follow on from a cursor: a ticket changed between two pages is neither skipped nor shown twice unless
    the change moved it in the order."""
    tickets = await reader.list_tickets(
        reach, filters=filters, order=order, after=_cursor(cursor, order), limit=limit + 1
    )
    page = tickets[:limit]
    next_cursor = None
    if len(tickets) > limit:
        next_cursor = encode_cursor(PageCursor(order=order, key=sort_key(order, page[-1])))
    items = tuple(TicketOut.of(ticket, handling=handles(reach, ticket)) for ticket in page)
    return TicketPage(items=items, next_cursor=next_cursor)


@router.get("/counts", response_model=TicketCountsOut, responses=PROBLEMS)
async def count_tickets(reader: ReaderDep, reach: ReachDep, filters: TicketFilterDep) -> TicketCountsOut:
    """How many tickets the list of the same parameters holds, in all, per status and per department. Exact for
    the tickets the caller handles filtered on status, priority, archive, department and whether someone is
    assigned, at any number of tickets; with any other parameter, exact up to a thousand tickets, and beyond
    them a lower bound (``exact`` false: "1000+")."""
    return TicketCountsOut.of(await reader.count_tickets(reach, filters=filters))


@router.get(
    "/{ticket_id}",
    response_model=TicketDetailOut,
    response_model_exclude_unset=True,
    responses={**PROBLEMS, 404: {"model": Problem, "description": "No such ticket, or not one the caller may read."}},
)
async def get_ticket(
    ticket_id: UUID,
    reader: ReaderDep,
    notices: NoticesDep,
    reach: ReachDep,
    settings: SettingsDep,
    order: Annotated[TimelineOrder, Query(description="The timeline oldest first (asc) or newest first.")] = (
        TimelineOrder.ASC
    ),
    min_version: Annotated[
        int | None, Query(ge=1, description="Wait (a little) until the ticket has reached this version.")
    ] = None,
    timeline_limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="At most this many timeline entries in the answer.")
    ] = DEFAULT_LIMIT,
    timeline_cursor: Annotated[
        str | None, Query(description="``timeline_next_cursor`` of the answer before: the next page of the timeline.")
    ] = None,
) -> TicketDetailOut:
    """The ticket and a page of its timeline, in time order. A ticket merged into another still answers, and
    names it in ``merged_into``. Internal notes and the handling side's own fields are shown only to the handling
    side of the ticket; a ticket the caller may not read answers 404, as a missing one does. With ``min_version``,
    waits up to a couple of seconds for the read model to reach it, then answers what it has; the ``version``
    field says which.

    A page holds ``timeline_limit`` entries, or fewer once their bodies reach about a million characters;
    ``timeline_next_cursor`` asks for the next one (in the same ``order``)."""
    wait = None
    if min_version is not None:
        wait = Wait(
            min_version=min_version,
            timeout=settings.read_your_writes_timeout_seconds,
            poll=settings.read_your_writes_poll_seconds,
        )
    window = TimelineWindow(limit=timeline_limit, after=_timeline_cursor(timeline_cursor))
    newest_first = order is TimelineOrder.DESC
    view = await read_ticket(reader, notices, reach, ticket_id, newest_first=newest_first, window=window, wait=wait)
    if view is None:
        raise NotFound(f"There is no ticket {ticket_id}.")
    following = next_cursor(view)
    return TicketDetailOut.of_view(
        view,
        handling=handles(reach, view.ticket),
        next_cursor=None if following is None else encode_timeline_cursor(following),
    )


_ATTACHMENT_ID = re.compile(ATTACHMENT_ID_PATTERN)
_DOWNLOAD_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The file's bytes. Its type is the one sniffed from them, but a type a browser would render"
        " or run (HTML, SVG, XML, JavaScript), which is served as application/octet-stream; it comes with"
        " ``Content-Disposition: attachment`` and its name (an ASCII fallback and ``filename*`` in UTF-8),"
        " ``X-Content-Type-Options: nosniff`` and a sandboxing ``Content-Security-Policy``.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    401: PROBLEMS[401],
    404: {
        "model": Problem,
        "description": "No such ticket or file, or not one the caller may see (an internal note's file is the"
        " handling side's only): the same answer for each.",
    },
    422: {"model": Problem, "description": "The ticket id is not a UUID."},
    503: {
        "model": Problem,
        "description": "The read model's database or the attachment store does not answer; see Retry-After.",
    },
}


@router.get(
    "/{ticket_id}/attachments/{attachment_id}",
    response_class=Response,
    responses=_DOWNLOAD_RESPONSES,
    summary="Download a file of a post",
)
async def get_attachment(
    ticket_id: UUID, attachment_id: str, reader: ReaderDep, blobs: BlobsDep, reach: ReachDep
) -> Response:
    """A file attached to a post of the ticket, for a caller who may see the ticket and that post: the ticket's
    requesting side sees the files of every post but internal notes, the handling side all of them. A file one
    may not see answers 404, as an unknown or malformed id does."""
    found = None
    if _ATTACHMENT_ID.fullmatch(attachment_id):
        found = await download(reader, blobs, reach, ticket_id, attachment_id)
    if found is None:
        raise NotFound(f"There is no such attachment of ticket {ticket_id}.")
    return Response(content=found.data, headers=download_headers(found.attachment))
