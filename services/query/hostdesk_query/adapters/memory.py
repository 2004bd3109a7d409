"""In-memory fakes of the ports, for unit tests. They keep the same rules as the real adapters, through the
same domain functions."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

from hostdesk_contracts.access import Reach

from hostdesk_query.adapters.ports import DeadLetter, KeptLetter, Outcome
from hostdesk_query.domain.counting import TicketCounts, counted
from hostdesk_query.domain.cursor import PageCursor
from hostdesk_query.domain.listing import ORDERINGS, ListOrder, TicketFilter, comes_after, sort_key
from hostdesk_query.domain.model import PostedFile, TicketRecord, TicketView, TimelineEntry
from hostdesk_query.domain.paging import FIRST_PAGE, TimelineWindow, numbered, page_of
from hostdesk_query.domain.projection import Change, plan_batch
from hostdesk_query.domain.search import Search, SearchHit, SearchKind, SearchResult, marked_html
from hostdesk_query.domain.visibility import file_shown, listed, shows, side_on


class InMemoryNotices:
    def __init__(self) -> None:
        self._watchers: defaultdict[UUID, set[asyncio.Event]] = defaultdict(set)
        self.someone_watches = asyncio.Event()

    @contextmanager
    def watch(self, ticket_id: UUID) -> Iterator[asyncio.Event]:
        changed = asyncio.Event()
        self._watchers[ticket_id].add(changed)
        self.someone_watches.set()
        try:
            yield changed
        finally:
            self._watchers[ticket_id].discard(changed)
            if not self._watchers[ticket_id]:
                del self._watchers[ticket_id]

    def announce(self, ticket_id: UUID) -> None:
        for changed in self._watchers.get(ticket_id, ()):
            changed.set()


class InMemoryReadModel:
    def __init__(self, notices: InMemoryNotices | None = None) -> None:
        self.tickets: dict[UUID, TicketRecord] = {}
        self.timeline: dict[UUID, dict[tuple[int, int], TimelineEntry]] = defaultdict(dict)
        self.dead_letters: list[DeadLetter | None] = []  # None: replayed since
        self.asked: set[int] = set()  # the letters whose replay was asked for (their places, from 1)
        self.letters_at = datetime(2026, 1, 1, tzinfo=UTC)  # when every letter here was set aside
        self.answering = True  # whether readiness finds its database answering
        self._notices = notices

    async def apply(self, changes: Sequence[Change]) -> list[Outcome]:
        ticket_ids = {change.ticket_id for change in changes}
        plan = plan_batch({i: self.tickets[i] for i in ticket_ids if i in self.tickets}, changes)
        for ticket in (*plan.created, *plan.updated):
            self.tickets[ticket.ticket_id] = ticket
        for entry in plan.entries:
            self.timeline[entry.ticket_id].setdefault((entry.version, entry.part), entry)
        if self._notices is not None:
            for ticket in (*plan.created, *plan.updated):
                self._notices.announce(ticket.ticket_id)
        return list(plan.decisions)

    async def keep_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        self.dead_letters.extend(letters)

    def _kept(self) -> list[KeptLetter]:
        """The letters kept, each numbered by its place in ``dead_letters`` (a settled one is None there)."""
        return [
            KeptLetter(id=place, letter=letter, received_at=self.letters_at, replay_requested=place in self.asked)
            for place, letter in enumerate(self.dead_letters, start=1)
            if letter is not None
        ]

    async def kept_letters(self, *, subject_prefix: str, limit: int) -> list[KeptLetter]:
        kept = [kept for kept in self._kept() if kept.letter.subject.startswith(subject_prefix)]
        return kept[::-1][:limit]

    async def kept_letter(self, letter_id: int, *, subject_prefix: str) -> KeptLetter | None:
        return next(
            (k for k in await self.kept_letters(subject_prefix=subject_prefix, limit=10**9) if k.id == letter_id), None
        )

    async def letters_to_replay(self, *, limit: int) -> list[KeptLetter]:
        return [kept for kept in self._kept() if kept.replay_requested][:limit]

    async def settle_letter(self, letter_id: int) -> None:
        self.dead_letters[letter_id - 1] = None
        self.asked.discard(letter_id)

    async def keep_letter(self, letter_id: int, *, error: str) -> None:
        letter = self.dead_letters[letter_id - 1]
        assert letter is not None
        self.dead_letters[letter_id - 1] = replace(letter, error=error)
        self.asked.discard(letter_id)

    async def answers(self) -> bool:
        return self.answering

    async def list_tickets(
        self,
        reach: Reach,
        *,
        filters: TicketFilter,
        order: ListOrder = ListOrder.UPDATED,
        after: PageCursor | None = None,
        limit: int,
    ) -> list[TicketRecord]:
        readable = (
            ticket
            for ticket in self.tickets.values()
            if listed(reach, filters, ticket) and (after is None or comes_after(order, ticket, after.key))
        )
        in_order = sorted(readable, key=lambda ticket: sort_key(order, ticket), reverse=ORDERINGS[order].descending)
        return in_order[:limit]

    async def count_tickets(self, reach: Reach, *, filters: TicketFilter) -> TicketCounts:
        kept = (ticket for ticket in self.tickets.values() if listed(reach, filters, ticket))
        return counted((ticket.status, ticket.department, 1) for ticket in kept)

    async def tickets_by_id(self, ticket_ids: Sequence[UUID]) -> dict[UUID, TicketRecord]:
        return {i: self.tickets[i] for i in ticket_ids if i in self.tickets}

    async def search_tickets(self, reach: Reach, search: Search, *, filters: TicketFilter, limit: int) -> SearchResult:
        """The same rules as PostgreSQL's, but words: found as they are written (accents folded, no stemming),
        the newest first."""
        kept = sorted(
            (ticket for ticket in self.tickets.values() if listed(reach, filters, ticket)),
            key=lambda ticket: sort_key(ListOrder.UPDATED, ticket),
            reverse=True,
        )
        if search.number is not None:
            by_number = [SearchHit(ticket) for ticket in kept if ticket.number == search.number]
            if by_number or search.words is None:
                return SearchResult(SearchKind.NUMBER, tuple(by_number), more=False)
        if search.email is not None:
            address = search.email.lower()
            found = [
                SearchHit(ticket)
                for ticket in kept
                if (ticket.requester_email or "").lower() == address or address in (c.lower() for c in ticket.cc)
            ]
            return SearchResult(SearchKind.EMAIL, tuple(found[:limit]), more=len(found) > limit)
        assert search.words is not None
        found = []
        for ticket in kept:
            side = side_on(reach, ticket)
            assert side is not None
            texts = [
                ticket.subject,
                *(e.body for e in self.timeline[ticket.ticket_id].values() if e.body and shows(side, e)),
            ]
            if search.words.found_in(texts):
                found.append(SearchHit(ticket, subject_html=marked_html(ticket.subject)))
        return SearchResult(SearchKind.WORDS, tuple(found[:limit]), more=len(found) > limit)

    async def ticket_view(
        self, reach: Reach, ticket_id: UUID, *, newest_first: bool, window: TimelineWindow = FIRST_PAGE
    ) -> TicketView | None:
        ticket = self.tickets.get(ticket_id)
        side = None if ticket is None else side_on(reach, ticket)
        if ticket is None or side is None:
            return None
        shown = numbered(entry for entry in self.timeline[ticket_id].values() if shows(side, entry))
        page, more = page_of(shown, window, newest_first=newest_first)
        return TicketView(
            ticket=ticket,
            timeline=tuple(entry for _, entry in page),
            positions=tuple(position for position, _ in page),
            more=more,
        )

    async def posted_file(self, reach: Reach, ticket_id: UUID, attachment_id: str) -> PostedFile | None:
        ticket = self.tickets.get(ticket_id)
        side = None if ticket is None else side_on(reach, ticket)
        if ticket is None or side is None:
            return None
        held = file_shown(side, self.timeline[ticket_id].values(), attachment_id)
        return None if held is None else PostedFile(tenant=ticket.tenant, ticket_id=ticket_id, attachment=held)


class StaticConnection:
    """A NATS connection that is connected or not, as the test says."""

    def __init__(self) -> None:
        self.is_connected = True
