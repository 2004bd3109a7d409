"""Reading a ticket and a page of its timeline, waiting when asked for a version the read model has not reached
yet (read-your-writes: a caller that just changed a ticket asks for the version its command produced)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from uuid import UUID

from hostdesk_contracts.access import Reach

from hostdesk_query.adapters.ports import TicketReader, VersionNotices
from hostdesk_query.domain.model import TicketView
from hostdesk_query.domain.paging import TimelineWindow, within_budget


@dataclass(frozen=True, slots=True)
class Wait:
    min_version: int
    timeout: float  # seconds
    poll: float  # look again at least this often, notified or not


async def read_ticket(
    reader: TicketReader,
    notices: VersionNotices,
    reach: Reach,
    ticket_id: UUID,
    *,
    newest_first: bool,
    window: TimelineWindow,
    wait: Wait | None,
) -> TicketView | None:
    """The ticket as ``reach`` may see it, with the page ``window`` of its timeline, cut short if its bodies
    reach the page's budget; with ``wait``, once it reaches ``wait.min_version`` or the time is up, whichever
    comes first. None when the ticket does not exist (by then) or ``reach`` may not read it."""

    async def read() -> TicketView | None:
        view = await reader.ticket_view(reach, ticket_id, newest_first=newest_first, window=window)
        return None if view is None else within_budget(view)

    if wait is None:
        return await read()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait.timeout
    with notices.watch(ticket_id) as changed:
        while True:
            changed.clear()  # before the read: a change committed after it sets the event again
            view = await read()
            remaining = deadline - loop.time()
            if (view is not None and view.ticket.version >= wait.min_version) or remaining <= 0:
                return view
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(remaining, wait.poll))
