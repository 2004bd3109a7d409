"""Reading the staff home (``domain.home``): its two lists and its counts, read side by side."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hostdesk_contracts.access import Reach

from hostdesk_query.adapters.ports import TicketReader
from hostdesk_query.domain.counting import TicketCounts
from hostdesk_query.domain.home import NOT_ARCHIVED, UNASSIGNED, assigned_to
from hostdesk_query.domain.listing import ListOrder
from hostdesk_query.domain.model import TicketRecord


@dataclass(frozen=True, slots=True)
class Section:
    tickets: list[TicketRecord]
    more: bool  # more tickets than these are in the list


@dataclass(frozen=True, slots=True)
class StaffHome:
    assigned: Section  # to the caller, the most urgent first, then the longest waiting
    unassigned: Section  # the newest first
    counts: TicketCounts


async def staff_home(reader: TicketReader, reach: Reach, *, limit: int) -> StaffHome:
    assigned, unassigned, counts = await asyncio.gather(
        reader.list_tickets(reach, filters=assigned_to(reach.account_id), order=ListOrder.PRIORITY, limit=limit + 1),
        reader.list_tickets(reach, filters=UNASSIGNED, order=ListOrder.CREATED, limit=limit + 1),
        reader.count_tickets(reach, filters=NOT_ARCHIVED),
    )
    return StaffHome(
        assigned=Section(assigned[:limit], more=len(assigned) > limit),
        unassigned=Section(unassigned[:limit], more=len(unassigned) > limit),
        counts=counts,
    )
