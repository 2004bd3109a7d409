"""``GET /v1/search``: quick search (``domain.search``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hostdesk_query.api.deps import ReachDep, ReaderDep
from hostdesk_query.api.list_filters import StorableText, TicketFilterDep, invalid
from hostdesk_query.api.routes import PROBLEMS
from hostdesk_query.api.schemas import SearchHitOut, SearchOut, TicketOut
from hostdesk_query.domain.search import NothingToSearch, SearchKind, search_of
from hostdesk_query.domain.visibility import handles

router = APIRouter(prefix="/v1/search", tags=["search"])

_Q_HELP = (
    "A ticket number (``482913`` or ``#482913``), an e-mail address (requester or CC), or words: every word must"
    " be found in the subject or a post the caller may read, in English or French, accents ignored; the last one"
    " as the start of a word unless a space follows it."
)


@router.get("", response_model=SearchOut, responses=PROBLEMS)
async def search(
    reader: ReaderDep,
    reach: ReachDep,
    filters: TicketFilterDep,
    q: Annotated[StorableText, Query(min_length=1, max_length=500, description=_Q_HELP)],
    limit: Annotated[int, Query(ge=1, le=50, description="At most this many tickets.")] = 20,
) -> SearchOut:
    """The tickets the caller may read that the list of the same filters holds and ``q`` finds. Words are ranked
    (a word of the subject first, then how often) among the few hundred most recently updated tickets that hold
    them all. A ticket the caller may not read is never found, counted or shown; the requesting side's words are
    looked for in subjects and public posts only, never in internal notes."""
    try:
        searched = search_of(q)
    except NothingToSearch as error:
        raise invalid("q", str(error), q) from error
    result = await reader.search_tickets(reach, searched, filters=filters, limit=limit)
    items = tuple(
        SearchHitOut(
            ticket=TicketOut.of(hit.ticket, handling=handles(reach, hit.ticket)),
            subject_html=hit.subject_html,
            snippet_html=hit.snippet_html,
        )
        for hit in result.hits
    )
    one = result.kind is SearchKind.NUMBER and len(items) == 1
    return SearchOut(
        kind=result.kind, items=items, more=result.more, goes_to=items[0].ticket.ticket_id if one else None
    )
