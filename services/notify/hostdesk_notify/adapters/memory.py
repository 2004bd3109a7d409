"""In-memory fakes of notify's ports, for unit tests: same behaviour, no server."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from uuid import UUID

from hostdesk_contracts.runtime.consumer import DeadLetter

from hostdesk_notify.adapters.ports import (
    Delivery,
    DeliveryFailed,
    DeliveryStatus,
    KeptLetter,
    OutboxClaim,
    UnitOfWork,
)
from hostdesk_notify.domain.bounds import RecentMail, Suppressed, counts_against_bounds
from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.mail import OutgoingMail


@dataclass
class OutboxRow:
    mail: OutgoingMail
    created_at: datetime
    next_attempt_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    suppressed_reason: str | None = None


@dataclass
class _State:
    inbox: set[str] = field(default_factory=set)
    tickets: dict[UUID, TicketContact] = field(default_factory=dict)
    outbox: dict[tuple[str, str], OutboxRow] = field(default_factory=dict)


class MemoryUnitOfWork:
    """Works on a copy of the store's state; the store keeps the copy only when the block ends cleanly."""

    def __init__(self, state: _State) -> None:
        self.state = state

    async def claim_event(self, event_id: str) -> bool:
        if event_id in self.state.inbox:
            return False
        self.state.inbox.add(event_id)
        return True

    async def save_ticket(self, ticket: TicketContact) -> None:
        self.state.tickets[ticket.ticket_id] = ticket

    async def ticket(self, ticket_id: UUID) -> TicketContact | None:
        return self.state.tickets.get(ticket_id)

    async def queue(self, mails: Sequence[OutgoingMail], *, now: datetime) -> None:
        for mail in mails:
            self.state.outbox.setdefault((mail.event_id, mail.recipient), OutboxRow(mail, now, now))

    async def suppress(self, held: Sequence[Suppressed], *, now: datetime) -> None:
        for each in held:
            row = OutboxRow(each.mail, now, now, status=DeliveryStatus.SUPPRESSED, suppressed_reason=each.reason)
            self.state.outbox.setdefault((each.mail.event_id, each.mail.recipient), row)

    async def recent_mail(self, ticket: TicketContact, *, since: datetime) -> RecentMail:
        counted = [
            row.mail
            for row in self.state.outbox.values()
            if row.created_at > since
            and row.status is not DeliveryStatus.SUPPRESSED
            and counts_against_bounds(row.mail)
            and row.mail.tenant == ticket.tenant
        ]
        of_requester = 0 if ticket.requester_id is None else sum(m.requester_id == ticket.requester_id for m in counted)
        return RecentMail(ticket=sum(m.ticket_id == ticket.ticket_id for m in counted), requester=of_requester)


class MemoryClaim:
    def __init__(self, row: OutboxRow) -> None:
        self._row = row

    @property
    def mail(self) -> OutgoingMail:
        return self._row.mail

    @property
    def attempts(self) -> int:
        return self._row.attempts

    async def sent(self, *, at: datetime) -> None:
        self._row.attempts += 1
        self._row.status, self._row.sent_at, self._row.last_error = DeliveryStatus.SENT, at, None

    async def failed(self, *, error: str, retry_at: datetime | None) -> None:
        self._row.attempts += 1
        self._row.last_error = error
        if retry_at is None:
            self._row.status = DeliveryStatus.DEAD
        else:
            self._row.next_attempt_at = retry_at


class MemoryStore:
    def __init__(self) -> None:
        self._state = _State()
        self.dead_letters: list[DeadLetter] = []
        self.settled: set[int] = set()  # the letters replayed since (their places in ``dead_letters``, from 1)
        self.asked: set[int] = set()  # the letters whose replay was asked for
        self.letters_at = datetime(2026, 1, 1, tzinfo=UTC)  # when every letter here was set aside
        self._claimed: set[tuple[str, str]] = set()  # held by a sender, as a locked row

    @property
    def outbox(self) -> list[OutboxRow]:
        return list(self._state.outbox.values())

    @property
    def inbox(self) -> set[str]:
        return set(self._state.inbox)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        unit = MemoryUnitOfWork(copy.deepcopy(self._state))
        yield unit
        self._state = unit.state

    @asynccontextmanager
    async def claim_due(self, *, now: datetime) -> AsyncIterator[OutboxClaim | None]:
        """As the PostgreSQL store: the oldest due mail no other sender holds, whose reader has no earlier mail of its
        ticket pending (the outbox keeps the order mails were queued in)."""
        pending = [r for r in self._state.outbox.values() if r.status is DeliveryStatus.PENDING]
        first_of_reader: dict[tuple[str, UUID, str], OutboxRow] = {}
        for row in pending:
            first_of_reader.setdefault((row.mail.tenant, row.mail.ticket_id, row.mail.recipient), row)
        due = [
            r
            for r in first_of_reader.values()
            if r.next_attempt_at <= now and (r.mail.event_id, r.mail.recipient) not in self._claimed
        ]
        due.sort(key=lambda r: r.next_attempt_at)
        if not due:
            yield None
            return
        key = (due[0].mail.event_id, due[0].mail.recipient)
        self._claimed.add(key)
        try:
            yield MemoryClaim(due[0])
        finally:
            self._claimed.discard(key)

    async def dead_letter(self, letter: DeadLetter) -> None:
        self.dead_letters.append(letter)

    def _kept(self) -> list[KeptLetter]:
        """The letters kept, each numbered by its place in ``dead_letters`` from 1, but those settled."""
        return [
            KeptLetter(id=place, letter=letter, received_at=self.letters_at, replay_requested=place in self.asked)
            for place, letter in enumerate(self.dead_letters, start=1)
            if place not in self.settled
        ]

    async def kept_letters(self, *, subject_prefix: str, limit: int) -> list[KeptLetter]:
        return [k for k in self._kept() if k.letter.subject.startswith(subject_prefix)][::-1][:limit]

    async def kept_letter(self, letter_id: int, *, subject_prefix: str) -> KeptLetter | None:
        kept = self._kept()
        return next((k for k in kept if k.id == letter_id and k.letter.subject.startswith(subject_prefix)), None)

    async def letters_to_replay(self, *, limit: int) -> list[KeptLetter]:
        return [kept for kept in self._kept() if kept.replay_requested][:limit]

    async def settle_letter(self, letter_id: int) -> None:
        self.settled.add(letter_id)
        self.asked.discard(letter_id)

    async def keep_letter(self, letter_id: int, *, error: str) -> None:
        self.dead_letters[letter_id - 1] = replace(self.dead_letters[letter_id - 1], error=error)
        self.asked.discard(letter_id)

    async def ticket_of_tenant(self, ticket_id: UUID, tenant: str) -> TicketContact | None:
        ticket = self._state.tickets.get(ticket_id)
        return ticket if ticket is not None and ticket.tenant == tenant else None

    async def deliveries(self, ticket_id: UUID, *, tenant: str, limit: int) -> list[Delivery]:
        rows = [r for r in self.outbox if r.mail.ticket_id == ticket_id and r.mail.tenant == tenant]
        return [
            Delivery(
                event_id=r.mail.event_id,
                recipient=r.mail.recipient,
                subject=r.mail.subject,
                status=r.status,
                attempts=r.attempts,
                last_error=r.last_error,
                created_at=r.created_at,
                sent_at=r.sent_at,
                suppressed_reason=r.suppressed_reason,
                language=r.mail.language,
            )
            for r in rows[:limit]
        ]


@dataclass(frozen=True)
class SentMessage:
    sender: str
    recipient: str
    message: EmailMessage


@dataclass
class MemoryMailer:
    """Keeps what it is asked to send. ``failures`` are raised first, one per send, before any success."""

    sent: list[SentMessage] = field(default_factory=list)
    failures: list[DeliveryFailed] = field(default_factory=list)

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(SentMessage(sender, recipient, message))

    async def close(self) -> None:
        pass
