"""The history of a ticket: the ticket and its timeline as they were at a version or a moment, as a caller may see
them.

The ticket is rebuilt from its own events (from the latest snapshot at or below the version asked for), so it
answers from the truth rather than from a read model. Synchronous, as the event store is: run it in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from hostdesk_contracts.base import Actor, Side
from hostdesk_contracts.events import EVENT_ADAPTER, AnyEvent

from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.domain.access import side_of
from hostdesk_tickets.domain.disclosure import timeline_for
from hostdesk_tickets.domain.errors import TicketNotFound
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication


class HistoryNotFound(LookupError):
    """No such ticket, not one the caller may see, or not at the version or moment asked for (it was not there
    yet). A caller who may not see the ticket is told nothing more about it."""


@dataclass(frozen=True, slots=True)
class AsOf:
    """Which state of the ticket is asked for: at ``version``, at ``moment``, or (neither) now."""

    version: int | None = None
    moment: datetime | None = None


@dataclass(frozen=True, slots=True)
class TicketThen:
    """A ticket as it was, for one caller: the ticket at that version, the side the caller speaks for, and the
    ticket's public events up to then, oldest first, as that side is shown them."""

    ticket: Ticket
    side: Side
    timeline: tuple[AnyEvent, ...]


def read_history(app: TicketsApplication, ticket_id: UUID, caller: Actor, as_of: AsOf) -> TicketThen:
    """The ticket at ``as_of`` as ``caller`` may see it; ``HistoryNotFound`` when there is none to see."""
    try:
        current = app.get_ticket(ticket_id)
    except TicketNotFound:
        raise HistoryNotFound(f"There is no ticket {ticket_id}.") from None
    side = side_of(caller, tenant=current.tenant, requester_id=current.requester_id)
    if side is None:
        raise HistoryNotFound(f"There is no ticket {ticket_id}.")
    version = _version_asked(app, current, as_of)
    ticket = current if version == current.version else app.get_ticket(ticket_id, version=version)
    events: list[AnyEvent] = [
        EVENT_ADAPTER.validate_python(to_public(stored))
        for stored in app.repository.event_store.get(ticket_id, lte=version)
    ]
    return TicketThen(ticket=ticket, side=side, timeline=tuple(timeline_for(events, side)))


def _version_asked(app: TicketsApplication, current: Ticket, as_of: AsOf) -> int:
    if as_of.moment is not None:
        version = app.version_at(current.id, as_of.moment)
        if version is None:
            raise HistoryNotFound(f"Ticket #{current.number} did not exist yet at {as_of.moment.isoformat()}.")
        return version
    if as_of.version is not None and as_of.version > current.version:
        raise HistoryNotFound(
            f"Ticket #{current.number} is at version {current.version}; it has no version {as_of.version}."
        )
    return as_of.version or current.version
