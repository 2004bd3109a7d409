"""The history of a ticket: the ticket and its timeline as they were at a version or a moment, as a caller may see
them, a page of the timeline at a time.

The ticket is rebuilt from its own events (from the latest snapshot at or below the version asked for), so it
answers from the truth rather than from a read model. Synchronous, as the event store is: run it in a worker thread.

What the requesting side may count. The log's versions count every event of the ticket, the handling side's own
too (internal notes, tags, assignments), so a version would tell the requester that such events exist, and when.
The requesting side is therefore shown no version at all:

- each entry of its timeline carries its *position*, its place among the entries that side is shown, from 1
  (for the handling side, which is shown every event, an entry's position is its version);
- ``version=N`` asks, for the requesting side, for the ticket as it was at the N-th entry of its own timeline;
- the ticket it is shown is the ticket as it was at the last entry it sees (at the moment or entry asked for),
  so that nothing done since by the handling side alone (not even the time of it, ``updated_at``) shows through;
- of the actors of its entries, it is shown every name but only its own e-mail address (the staff's are the
  handling side's), and no entry names the command that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from hostdesk_contracts.access import Reach, reach_of
from hostdesk_contracts.base import Actor, Side
from hostdesk_contracts.events import EVENT_ADAPTER, AnyEvent, PostsMerged, ReplyPosted, TicketOpened

from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.domain.disclosure import timeline_for
from hostdesk_tickets.domain.errors import TicketNotFound
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication

DEFAULT_LIMIT = 100
MAX_LIMIT = 200
# A reply holds up to 65,536 characters, and a merge carries every post of a ticket: a page ends once the bodies
# it holds reach this many characters (it always holds one entry, however long).
BODY_BUDGET = 1_000_000


class HistoryNotFound(LookupError):
    """No such ticket, not one the caller may see, or not at the version or moment asked for (it was not there
    yet). A caller who may not see the ticket is told nothing more about it."""


@dataclass(frozen=True, slots=True)
class AsOf:
    """Which state of the ticket is asked for: at ``version``, at ``moment``, or (neither) now. For the
    requesting side, ``version`` is the position of an entry of its own timeline."""

    version: int | None = None
    moment: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """Which page of the timeline is asked for: at most ``limit`` entries past the position ``after``."""

    limit: int = DEFAULT_LIMIT
    after: int = 0


@dataclass(frozen=True, slots=True)
class Entry:
    """An event as the caller's side is shown it, and its position in that side's timeline."""

    position: int
    event: AnyEvent


@dataclass(frozen=True, slots=True)
class TicketThen:
    """A ticket as it was, for one caller: the ticket then, the side the caller speaks for, and a page of the
    entries that side is shown up to then, oldest first. ``next_after`` is the position the next page starts
    after; None on the last page."""

    ticket: Ticket
    side: Side
    timeline: tuple[Entry, ...]
    next_after: int | None


def read_history(
    app: TicketsApplication,
    ticket_id: UUID,
    caller: Actor,
    as_of: AsOf,
    page: Page | None = None,
    *,
    reach: Reach | None = None,
) -> TicketThen:
    """The ticket at ``as_of`` as ``caller`` may see it, by its ``reach`` (``service_layer.lookups.reach_for``;
    ``None``: the caller's own, limited to no department); ``HistoryNotFound`` when there is none to see. The
    side is decided on the ticket as it is now, as every command is."""
    try:
        current = app.get_ticket(ticket_id)
    except TicketNotFound:
        raise HistoryNotFound(f"There is no ticket {ticket_id}.") from None
    side = current.side_for(reach or reach_of(caller))
    if side is None:
        raise HistoryNotFound(f"There is no ticket {ticket_id}.")
    last = current.version if as_of.moment is None else _version_at(app, current, as_of.moment)
    if side is Side.HANDLER:
        last = _handling_version(current, as_of.version) or last
    seen = timeline_for(_public_events(app, ticket_id, last), side)
    if side is Side.REQUESTER:
        seen = [_as_the_requester_sees(event, caller) for event in seen[: _requested_count(current, seen, as_of)]]
        last = seen[-1].version  # the opening is always shown
    ticket = current if last == current.version else app.get_ticket(ticket_id, version=last)
    entries = [Entry(position, event) for position, event in enumerate(seen, start=1)]
    shown, next_after = _page_of(entries, page or Page())
    return TicketThen(ticket=ticket, side=side, timeline=shown, next_after=next_after)


def _public_events(app: TicketsApplication, ticket_id: UUID, version: int) -> list[AnyEvent]:
    stored = app.repository.event_store.get(ticket_id, lte=version)
    return [EVENT_ADAPTER.validate_python(to_public(event)) for event in stored]


def _version_at(app: TicketsApplication, current: Ticket, moment: datetime) -> int:
    version = app.version_at(current.id, moment)
    if version is None:
        raise HistoryNotFound(f"Ticket #{current.number} did not exist yet at {moment.isoformat()}.")
    return version


def _handling_version(current: Ticket, version: int | None) -> int | None:
    if version is not None and version > current.version:
        raise HistoryNotFound(f"Ticket #{current.number} is at version {current.version}; it has no version {version}.")
    return version


def _requested_count(current: Ticket, seen: list[AnyEvent], as_of: AsOf) -> int:
    """How many of the entries the requesting side sees ``as_of`` asks for: its ``version`` is a position."""
    if as_of.version is None:
        return len(seen)
    if as_of.version > len(seen):
        raise HistoryNotFound(
            f"The timeline of ticket #{current.number} holds {len(seen)} entries; it has no entry {as_of.version}."
        )
    return as_of.version


def _as_the_requester_sees(event: AnyEvent, caller: Actor) -> AnyEvent:
    """``event`` without the command that caused it, and with no e-mail address but the caller's own."""
    update: dict[str, object] = {"command_id": None, "actor": _addressless(event.actor, caller)}
    if isinstance(event, PostsMerged):
        update["posts"] = tuple(
            post.model_copy(update={"actor": _addressless(post.actor, caller)}) for post in event.posts
        )
    return event.model_copy(update=update)


def _addressless(actor: Actor, caller: Actor) -> Actor:
    return actor if actor.account_id == caller.account_id else actor.model_copy(update={"email": None})


def _page_of(entries: list[Entry], page: Page) -> tuple[tuple[Entry, ...], int | None]:
    """The entries past ``page.after``: ``page.limit`` of them, or fewer once their bodies reach the budget."""
    following = [entry for entry in entries if entry.position > page.after]
    held: list[Entry] = []
    chars = 0
    for entry in following[: page.limit]:
        if held and chars >= BODY_BUDGET:
            break
        held.append(entry)
        chars += _body_chars(entry.event)
    more = len(following) > len(held)
    return tuple(held), held[-1].position if more and held else None


def _body_chars(event: AnyEvent) -> int:
    match event:
        case TicketOpened() | ReplyPosted():
            return len(event.body)
        case PostsMerged():
            return sum(len(post.body) for post in event.posts)
    return 0
