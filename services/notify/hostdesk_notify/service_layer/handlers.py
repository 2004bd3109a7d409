"""Handling one ticket event: bring the ticket's contact up to it, queue its mails, all in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hostdesk_contracts.events import TicketEvent

from hostdesk_notify.adapters.ports import NotifyStore
from hostdesk_notify.domain.contacts import Step, contact_after, step_for
from hostdesk_notify.domain.planning import plan_mails


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"  # handled before: nothing done, nothing sent
    EARLY = "early"  # an earlier event of its ticket (its opening, say) has not been handled yet: try again later


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    queued: int = 0


@dataclass(frozen=True)
class MailSettings:
    default_language: str
    domain: str  # of Message-IDs and thread ids


class _Early(Exception):
    """Rolls the transaction back, the inbox row with it, so that the redelivery is handled afresh."""


async def handle_event(event: TicketEvent, *, store: NotifyStore, settings: MailSettings, now: datetime) -> Handled:
    try:
        async with store.unit_of_work() as unit:
            if not await unit.claim_event(event.event_id):
                return Handled(Outcome.DUPLICATE)
            known = await unit.ticket(event.ticket_id)
            step = step_for(known, event)
            if step is Step.EARLY:
                raise _Early
            if step is Step.ALREADY_APPLIED:
                return Handled(Outcome.DUPLICATE)
            ticket = contact_after(known, event)
            await unit.save_ticket(ticket)
            mails = plan_mails(event, ticket, default_language=settings.default_language, domain=settings.domain)
            await unit.queue(mails, now=now)
            return Handled(Outcome.HANDLED, queued=len(mails))
    except _Early:
        return Handled(Outcome.EARLY)
