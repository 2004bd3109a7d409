"""The read model readers are served from, switched from one version to the next in one assignment: a request
reads the version serving when it starts, every read of it from that version (``entrypoints.read_models``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from uuid import UUID

from hostdesk_contracts.access import Reach

from hostdesk_query.adapters.notices import PostgresVersionNotices
from hostdesk_query.adapters.ports import DeadLetter, KeptLetter, Outcome
from hostdesk_query.adapters.postgres import PostgresReadModel
from hostdesk_query.domain.counting import TicketCounts
from hostdesk_query.domain.cursor import PageCursor
from hostdesk_query.domain.listing import ListOrder, TicketFilter
from hostdesk_query.domain.model import PostedFile, TicketRecord, TicketView
from hostdesk_query.domain.paging import FIRST_PAGE, TimelineWindow
from hostdesk_query.domain.projection import Change
from hostdesk_query.domain.search import Search, SearchResult


class ServingReadModel:
    def __init__(self, current: PostgresReadModel) -> None:
        self.current = current

    async def list_tickets(
        self,
        reach: Reach,
        *,
        filters: TicketFilter,
        order: ListOrder = ListOrder.UPDATED,
        after: PageCursor | None = None,
        limit: int,
    ) -> list[TicketRecord]:
        return await self.current.list_tickets(reach, filters=filters, order=order, after=after, limit=limit)

    async def count_tickets(self, reach: Reach, *, filters: TicketFilter) -> TicketCounts:
        return await self.current.count_tickets(reach, filters=filters)

    async def search_tickets(self, reach: Reach, search: Search, *, filters: TicketFilter, limit: int) -> SearchResult:
        return await self.current.search_tickets(reach, search, filters=filters, limit=limit)

    async def ticket_view(
        self, reach: Reach, ticket_id: UUID, *, newest_first: bool, window: TimelineWindow = FIRST_PAGE
    ) -> TicketView | None:
        return await self.current.ticket_view(reach, ticket_id, newest_first=newest_first, window=window)

    async def posted_file(self, reach: Reach, ticket_id: UUID, attachment_id: str) -> PostedFile | None:
        return await self.current.posted_file(reach, ticket_id, attachment_id)

    async def tickets_by_id(self, ticket_ids: Sequence[UUID]) -> dict[UUID, TicketRecord]:
        return await self.current.tickets_by_id(ticket_ids)

    async def answers(self) -> bool:
        return await self.current.answers()

    async def apply(self, changes: Sequence[Change]) -> list[Outcome]:
        return await self.current.apply(changes)

    async def keep_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        await self.current.keep_dead_letters(letters)

    async def kept_letters(self, *, subject_prefix: str, limit: int) -> list[KeptLetter]:
        return await self.current.kept_letters(subject_prefix=subject_prefix, limit=limit)

    async def kept_letter(self, letter_id: int, *, subject_prefix: str) -> KeptLetter | None:
        return await self.current.kept_letter(letter_id, subject_prefix=subject_prefix)

    async def letters_to_replay(self, *, limit: int) -> list[KeptLetter]:
        return await self.current.letters_to_replay(limit=limit)

    async def settle_letter(self, letter_id: int) -> None:
        await self.current.settle_letter(letter_id)

    async def keep_letter(self, letter_id: int, *, error: str) -> None:
        await self.current.keep_letter(letter_id, error=error)


class ServingNotices:
    def __init__(self, current: PostgresVersionNotices) -> None:
        self.current = current

    @contextmanager
    def watch(self, ticket_id: UUID) -> Iterator[asyncio.Event]:
        with self.current.watch(ticket_id) as changed:
            yield changed
