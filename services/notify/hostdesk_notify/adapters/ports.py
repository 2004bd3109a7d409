"""What notify needs of the world outside, as Protocols: its store (PostgreSQL, or an in-memory fake) and its mailer
(SMTP, or an in-memory fake)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from hostdesk_contracts.runtime.consumer import DeadLetter

from hostdesk_notify.domain.bounds import RecentMail, Suppressed
from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.mail import OutgoingMail

CONSUMER = "notify"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    SUPPRESSED = "suppressed"  # held back by a bound on mail, or nobody to send it to: never sent


@dataclass(frozen=True)
class Delivery:
    """One outbox row as staff see it. ``recipient`` empty: a mail nobody could be sent (``suppressed``)."""

    event_id: str
    recipient: str
    subject: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    suppressed_reason: str | None = None
    language: str | None = None


class UnitOfWork(Protocol):
    """One transaction: everything done through it commits together, or nothing does."""

    async def claim_event(self, event_id: str) -> bool:
        """Record the event as handled; False when it already was (a redelivery)."""
        ...

    async def save_ticket(self, ticket: TicketContact) -> None:
        """Keep the ticket as it now is, replacing what was kept of it."""
        ...

    async def ticket(self, ticket_id: UUID) -> TicketContact | None:
        """The ticket as kept, held until the unit of work ends: another event of it waits for this one."""
        ...

    async def queue(self, mails: Sequence[OutgoingMail], *, now: datetime) -> None:
        """Add pending mails to the outbox, due at once."""
        ...

    async def suppress(self, held: Sequence[Suppressed], *, now: datetime) -> None:
        """Keep mails held back (by a bound, or for want of anyone to mail) in the outbox, with their reasons,
        never to be sent."""
        ...

    async def recent_mail(self, ticket: TicketContact, *, since: datetime) -> RecentMail:
        """Mail queued after ``since`` to the requesting side of ``ticket`` and of its requester's tickets. Holds
        the requester's count until the unit of work ends, so that replicas handling two of its tickets at once
        count one after the other."""
        ...


class OutboxClaim(Protocol):
    """A pending mail, locked for this sender until the claim ends."""

    @property
    def mail(self) -> OutgoingMail: ...

    @property
    def attempts(self) -> int: ...

    async def sent(self, *, at: datetime) -> None: ...

    async def failed(self, *, error: str, retry_at: datetime | None) -> None:
        """Count a failed attempt; ``retry_at`` None gives the mail up (dead)."""
        ...


@dataclass(frozen=True)
class KeptLetter:
    """A dead letter as kept: its id, when it was set aside, and whether a replay of it was asked for."""

    id: int
    letter: DeadLetter
    received_at: datetime
    replay_requested: bool = False


class NotifyStore(Protocol):
    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]: ...

    def claim_due(self, *, now: datetime) -> AbstractAsyncContextManager[OutboxClaim | None]:
        """The oldest pending mail due by ``now`` that no other sender holds, or None."""
        ...

    async def dead_letter(self, letter: DeadLetter) -> None: ...

    async def kept_letters(self, *, subject_prefix: str, limit: int) -> list[KeptLetter]:
        """The newest ``limit`` dead letters whose subject starts with ``subject_prefix`` (a tenant's events)."""
        ...

    async def kept_letter(self, letter_id: int, *, subject_prefix: str) -> KeptLetter | None: ...

    async def letters_to_replay(self, *, limit: int) -> list[KeptLetter]:
        """Letters whose replay the command line asked for, oldest first."""
        ...

    async def settle_letter(self, letter_id: int) -> None:
        """Replayed: no longer kept."""
        ...

    async def keep_letter(self, letter_id: int, *, error: str) -> None:
        """Replayed in vain: kept, with the error of this replay, no longer asked for."""
        ...

    async def ticket_of_tenant(self, ticket_id: UUID, tenant: str) -> TicketContact | None:
        """The ticket as kept, when notify has seen it and it is of ``tenant``; read without holding it."""
        ...

    async def deliveries(self, ticket_id: UUID, *, tenant: str, limit: int) -> list[Delivery]: ...


class DeliveryFailed(Exception):
    """The mail server did not take the mail. ``permanent`` when trying again cannot help: a 5xx answer about
    this mail (its recipient or its content). Refusals of our own login or sender are settings to fix, and
    the mail waits for them."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        """Hand the message to the mail server for one recipient, or raise ``DeliveryFailed``. Several sends may
        run at once."""
        ...

    async def close(self) -> None:
        """Let go of the connections kept for the next mails."""
        ...
