"""Handling one ticket event: bring the ticket's contact up to it, address its mails with the directory as it is
now, queue them within the bounds on mail (and keep those over a bound, or that nobody could be sent, as
suppressed), all in one transaction. The event's inbox row commits with its mails: a redelivery, whatever the
directory says by then, plans nothing again."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.directory import Directory, DirectoryUnavailable

from hostdesk_notify.adapters.ports import NotifyStore, UnitOfWork
from hostdesk_notify.adapters.postgres import POSTGRES_UNAVAILABLE
from hostdesk_notify.domain.bounds import MailBounds, RecentMail, counts_against_bounds, within_bounds
from hostdesk_notify.domain.contacts import Step, TicketContact, contact_after, step_for
from hostdesk_notify.domain.mail import OutgoingMail
from hostdesk_notify.domain.planning import plan_mails
from hostdesk_notify.domain.recipients import mail_kind_for
from hostdesk_notify.service_layer.people import people_for
from hostdesk_notify.service_layer.reply_address import reply_address_for

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"  # handled before: nothing done, nothing sent
    EARLY = "early"  # an earlier event of its ticket (its opening, say) has not been handled yet: try again later


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    queued: int = 0
    suppressed: int = 0  # held back by a bound on mail, or nobody to send it to


EventHandler = Callable[[TicketEvent], Awaitable[Handled]]
# What handling an event waits out, holding its messages: PostgreSQL away, or the directory not readable yet.
HANDLING_UNAVAILABLE: tuple[type[BaseException], ...] = (*POSTGRES_UNAVAILABLE, DirectoryUnavailable)


@dataclass(frozen=True)
class MailSettings:
    default_language: str
    domain: str  # of Message-IDs and thread ids
    bounds: MailBounds = field(default_factory=MailBounds)
    # The installation's support address: tickets of organisations with none of their own are answered at it
    # (tagged with the ticket's number). None: mail carries the envelope's Reply-To as it is.
    support_address: str | None = None


class _Early(Exception):
    """Rolls the transaction back, the inbox row with it, so that the redelivery is handled afresh."""


async def handle_event(
    event: TicketEvent, *, store: NotifyStore, directory: Directory, settings: MailSettings, now: datetime
) -> Handled:
    """May raise ``DirectoryUnavailable`` (nothing recorded then): the event is to be handled again later."""
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
            people = await people_for(directory, mail_kind_for(event), ticket)
            plan = plan_mails(
                event, ticket, people=people, default_language=settings.default_language, domain=settings.domain
            )
            mails = await _answered_at(directory, ticket, plan.mails, settings=settings)
            recent = await _recent(unit, ticket, mails, bounds=settings.bounds, now=now)
            sent, held = within_bounds(mails, recent=recent, bounds=settings.bounds)
            await unit.queue(sent, now=now)
            await unit.suppress([*plan.unaddressed, *held], now=now)
            if held:
                # Over a bound on mail: worth a look. Nobody to mail (``unaddressed``) is the delivery log's only.
                log.warning(
                    "mail not sent: event_id=%s ticket_id=%s mails=%d: %s",
                    event.event_id,
                    event.ticket_id,
                    len(held),
                    held[0].reason,
                )
            return Handled(Outcome.HANDLED, queued=len(sent), suppressed=len(plan.unaddressed) + len(held))
    except _Early:
        return Handled(Outcome.EARLY)


async def _answered_at(
    directory: Directory, ticket: TicketContact, mails: tuple[OutgoingMail, ...], *, settings: MailSettings
) -> tuple[OutgoingMail, ...]:
    """The mails with the ticket's reply address; no look-up when there is no mail."""
    if not mails or settings.support_address is None:
        return mails
    address = await reply_address_for(directory, ticket, installation=settings.support_address)
    return tuple(replace(mail, reply_to=address) for mail in mails)


async def _recent(
    unit: UnitOfWork, ticket: TicketContact, mails: tuple[OutgoingMail, ...], *, bounds: MailBounds, now: datetime
) -> RecentMail:
    """What the ticket and its requester were mailed within the window; not asked when no mail would count."""
    if not any(counts_against_bounds(mail) for mail in mails):
        return RecentMail(ticket=0, requester=0)
    return await unit.recent_mail(ticket, since=now - bounds.window)
