"""``GET /v1/home``: the staff home (``domain.home``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hostdesk_query.api.deps import ReachDep, ReaderDep
from hostdesk_query.api.routes import PROBLEMS
from hostdesk_query.api.schemas import HomeOut, HomeSectionOut, TicketCountsOut, TicketOut
from hostdesk_query.domain.visibility import handles
from hostdesk_query.service_layer.home import Section, staff_home

router = APIRouter(prefix="/v1/home", tags=["home"])


@router.get("", response_model=HomeOut, response_model_exclude_unset=True, responses=PROBLEMS)
async def home(
    reader: ReaderDep,
    reach: ReachDep,
    limit: Annotated[int, Query(ge=1, le=50, description="At most this many tickets in each list.")] = 10,
) -> HomeOut:
    """The highest priority tickets assigned to the caller, the newest tickets nobody is assigned to, and the
    counts of the tickets not archived, within what the caller may see. An account that handles no tickets (a
    subaccount) finds only the tickets it requested in the counts, and both lists empty."""
    read = await staff_home(reader, reach, limit=limit)

    def section(of: Section) -> HomeSectionOut:
        items = tuple(TicketOut.of(ticket, handling=handles(reach, ticket)) for ticket in of.tickets)
        return HomeSectionOut(items=items, more=of.more)

    return HomeOut(
        assigned_to_me=section(read.assigned),
        newest_unassigned=section(read.unassigned),
        counts=TicketCountsOut.of(read.counts),
    )
