"""What the service needs from the outside world, and the records it exchanges with it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from hostdesk_contracts.access import Reach

from hostdesk_query.domain.counting import TicketCounts
from hostdesk_query.domain.cursor import PageCursor
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.listing import ListOrder, TicketFilter
from hostdesk_query.domain.model import PostedFile, TicketRecord, TicketView
from hostdesk_query.domain.paging import FIRST_PAGE, TimelineWindow
from hostdesk_query.domain.projection import Change
from hostdesk_query.domain.search import Search, SearchResult


class StoreUnavailable(Exception):
    """The read model's database did not answer. Nothing was written; try again later."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """The database refused the event's data (a number out of range...): it can never apply."""

    reason: str


Outcome = Decision | Rejected


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message kept, raw, because it could not be applied. Nothing is silently dropped."""

    subject: str
    data: bytes
    headers: Mapping[str, str]
    error: str
    stream_seq: int | None
    deliveries: int


@dataclass(frozen=True, slots=True)
class KeptLetter:
    """A dead letter as kept: its id, when it was set aside, and whether a replay of it was asked for."""

    id: int
    letter: DeadLetter
    received_at: datetime
    replay_requested: bool = False


class DeadLetters(Protocol):
    """The dead letters kept, for staff to see and replay (``service_layer.replay``). Each raises
    StoreUnavailable when the store does not answer."""

    async def kept_letters(self, *, subject_prefix: str, limit: int) -> list[KeptLetter]:
        """The newest ``limit`` of the letters whose subject starts with ``subject_prefix`` (a tenant's)."""
        ...

    async def kept_letter(self, letter_id: int, *, subject_prefix: str) -> KeptLetter | None: ...

    async def letters_to_replay(self, *, limit: int) -> list[KeptLetter]:
        """Letters whose replay was asked for from outside the service (the command line), oldest first."""
        ...

    async def settle_letter(self, letter_id: int) -> None:
        """Replayed: no longer kept."""
        ...

    async def keep_letter(self, letter_id: int, *, error: str) -> None:
        """Replayed in vain: kept, with the error of this replay, no longer asked for."""
        ...


class Delivery(Protocol):
    """One delivery of a message of the events stream."""

    @property
    def data(self) -> bytes: ...
    @property
    def subject(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def deliveries(self) -> int:
        """How many times the message was delivered, this time included."""
        ...

    @property
    def stream_seq(self) -> int | None: ...
    async def ack(self) -> None: ...
    async def nak(self, delay: float) -> None: ...
    async def term(self) -> None: ...
    async def in_progress(self) -> None: ...


class ProjectionStore(Protocol):
    async def apply(self, changes: Sequence[Change]) -> list[Outcome]:
        """Apply what the version gate lets through; one outcome per change, in order.
        Raises StoreUnavailable when nothing could be written."""
        ...

    async def keep_dead_letters(self, letters: Sequence[DeadLetter]) -> None: ...


class TicketReader(Protocol):
    async def list_tickets(
        self,
        reach: Reach,
        *,
        filters: TicketFilter,
        order: ListOrder = ListOrder.UPDATED,
        after: PageCursor | None = None,
        limit: int,
    ) -> list[TicketRecord]:
        """In ``order``, from after ``after`` (a cursor of that order); only tickets ``reach`` may read that
        ``filters`` keep, and with a filter on the handling side's fields only those it handles
        (``domain.visibility.listed``)."""
        ...

    async def count_tickets(self, reach: Reach, *, filters: TicketFilter) -> TicketCounts:
        """How many tickets the list of ``reach`` narrowed by ``filters`` holds, in all, per status and per
        department (``domain.counting``): exact, or a lower bound beyond ``COUNT_CAP`` where no tally answers."""
        ...

    async def search_tickets(self, reach: Reach, search: Search, *, filters: TicketFilter, limit: int) -> SearchResult:
        """The tickets ``reach`` may read that ``filters`` keep and ``search`` finds (``domain.search``): words
        only in what the caller's side on each ticket may read."""
        ...

    async def ticket_view(
        self, reach: Reach, ticket_id: UUID, *, newest_first: bool, window: TimelineWindow = FIRST_PAGE
    ) -> TicketView | None:
        """None when there is no such ticket, or ``reach`` may not read it. The page ``window`` of the timeline
        the caller's side on the ticket may see (``domain.visibility.shows``), in time order (entries of the same
        moment in the order of their events), with each entry's position and whether more follow
        (``domain.paging``)."""
        ...

    async def posted_file(self, reach: Reach, ticket_id: UUID, attachment_id: str) -> PostedFile | None:
        """The file ``attachment_id`` of a post of the ticket, or None unless ``reach`` may read the ticket and the
        post that holds it (``domain.visibility.file_shown``): an internal note's files are the handling side's."""
        ...


class TicketsById(Protocol):
    async def tickets_by_id(self, ticket_ids: Sequence[UUID]) -> dict[UUID, TicketRecord]:
        """The tickets of these ids the read model holds, whoever may see them: for the product's own use (who
        is told of a live change), never an answer to a caller. Raises StoreUnavailable."""
        ...


class VersionNotices(Protocol):
    def watch(self, ticket_id: UUID) -> AbstractContextManager[asyncio.Event]:
        """An event set whenever the ticket's version moves, while the context lasts. It may also never be set:
        a reader still looks again now and then."""
        ...


class ReadModel(TicketReader, TicketsById, ProjectionStore, DeadLetters, Protocol):
    async def answers(self) -> bool:
        """Whether its database answers now (for readiness: it never raises)."""
        ...


class NatsConnection(Protocol):
    @property
    def is_connected(self) -> bool: ...
