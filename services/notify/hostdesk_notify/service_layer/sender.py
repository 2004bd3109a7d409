"""Sending the outbox: each due mail once, retried with backoff, given up after a bounded number of tries."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hostdesk_contracts.runtime.clock import Clock

from hostdesk_notify.adapters.ports import DeliveryFailed, Mailer, NotifyStore, OutboxClaim
from hostdesk_notify.domain.mail import Envelope, compose
from hostdesk_notify.domain.retry import RetryPolicy

log = logging.getLogger(__name__)

# Mails tried in one call: bounds how long a shutdown waits for the sender.
BATCH = 10


@dataclass(frozen=True)
class OutboxSender:
    store: NotifyStore
    mailer: Mailer
    envelope: Envelope
    retry: RetryPolicy
    clock: Clock

    async def send_due(self, *, limit: int = BATCH) -> int:
        """Send mails that are due, one claim at a time, until none is left or ``limit`` were tried."""
        tried = 0
        while tried < limit:
            async with self.store.claim_due(now=self.clock()) as claim:
                if claim is None:
                    break
                await self._send(claim)
            tried += 1
        return tried

    async def _send(self, claim: OutboxClaim) -> None:
        mail = claim.mail
        try:
            message = compose(mail, envelope=self.envelope, date=self.clock())
        except ValueError as error:  # the stdlib refuses a header it cannot write safely
            await claim.failed(error=f"cannot be written as a mail: {error}", retry_at=None)
            log.error("mail given up: event_id=%s ticket_id=%s: %s", mail.event_id, mail.ticket_id, error)
            return
        try:
            await self.mailer.send(message, sender=self.envelope.sender, recipient=mail.recipient)
        except DeliveryFailed as failure:
            attempts = claim.attempts + 1
            retry_at = None if failure.permanent else self.retry.next_attempt_at(attempts=attempts, now=self.clock())
            await claim.failed(error=str(failure), retry_at=retry_at)
            log.warning(
                "mail not sent: event_id=%s ticket_id=%s attempt=%d %s: %s",
                mail.event_id,
                mail.ticket_id,
                attempts,
                "giving up" if retry_at is None else f"retrying at {retry_at.isoformat()}",
                failure,
            )
            return
        await claim.sent(at=self.clock())
        log.info("mail sent: event_id=%s ticket_id=%s message_id=%s", mail.event_id, mail.ticket_id, mail.message_id)
