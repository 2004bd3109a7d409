"""Reading a ticket, waiting when asked for a version the read model has not reached yet (read-your-writes:
a caller that just changed a ticket asks for the version its command produced)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from uuid import UUID

from hostdesk_query.adapters.ports import TicketReader, VersionNotices
from hostdesk_query.domain.model import TicketView
from hostdesk_query.domain.visibility import ReadScope


@dataclass(frozen=True, slots=True)
class Wait:
    min_version: int
    timeout: float  # seconds
    poll: float  # look again at least this often, notified or not


async def read_ticket(
    reader: TicketReader,
    notices: VersionNotices,
    scope: ReadScope,
    ticket_id: UUID,
    *,
    newest_first: bool,
    wait: Wait | None,
) -> TicketView | None:
    """The ticket as ``scope`` may see it; with ``wait``, once it reaches ``wait.min_version`` or the time is up,
    whichever comes first. None when the ticket does not exist (by then) or ``scope`` may not read it."""
    if wait is None:
        return await reader.ticket_view(scope, ticket_id, newest_first=newest_first)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait.timeout
    with notices.watch(ticket_id) as changed:
        while True:
            changed.clear()  # before the read: a change committed after it sets the event again
            view = await reader.ticket_view(scope, ticket_id, newest_first=newest_first)
            remaining = deadline - loop.time()
            if (view is not None and view.ticket.version >= wait.min_version) or remaining <= 0:
                return view
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(remaining, wait.poll))
