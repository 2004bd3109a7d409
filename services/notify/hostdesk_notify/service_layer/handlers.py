"""Handling one ticket event: remember the ticket, queue the mails, all in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hostdesk_contracts.events import TicketEvent, TicketOpened

from hostdesk_notify.adapters.ports import NotifyStore
from hostdesk_notify.domain.contacts import contact_from_opened
from hostdesk_notify.domain.planning import plan_mails
from hostdesk_notify.domain.recipients import mail_kind_for


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"  # handled before: nothing done, nothing sent
    TICKET_NOT_SEEN = "ticket_not_seen"  # the ticket's TicketOpened has not arrived yet: try again later


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    queued: int = 0


@dataclass(frozen=True)
class MailSettings:
    default_language: str
    domain: str  # of Message-IDs and thread ids


class _TicketNotSeen(Exception):
    """Rolls the transaction back, the inbox row with it, so that the redelivery is handled afresh."""


async def handle_event(event: TicketEvent, *, store: NotifyStore, settings: MailSettings, now: datetime) -> Handled:
    try:
        async with store.unit_of_work() as unit:
            if not await unit.claim_event(event.event_id):
                return Handled(Outcome.DUPLICATE)
            if isinstance(event, TicketOpened):
                await unit.remember_ticket(contact_from_opened(event))
            if mail_kind_for(event) is None:
                return Handled(Outcome.HANDLED)
            ticket = await unit.ticket(event.ticket_id)
            if ticket is None:
                raise _TicketNotSeen
            mails = plan_mails(event, ticket, default_language=settings.default_language, domain=settings.domain)
            await unit.queue(mails, now=now)
            return Handled(Outcome.HANDLED, queued=len(mails))
    except _TicketNotSeen:
        return Handled(Outcome.TICKET_NOT_SEEN)
