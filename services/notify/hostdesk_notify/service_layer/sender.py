"""Sending the outbox: each due mail once, retried with backoff, given up after a bounded number of tries."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from hostdesk_contracts.runtime.blobs import BlobStore, BlobsUnavailable, MemoryBlobStore
from hostdesk_contracts.runtime.clock import Clock

from hostdesk_notify.adapters.ports import DeliveryFailed, Mailer, NotifyStore, OutboxClaim
from hostdesk_notify.domain.mail import Envelope, MailFile, OutgoingMail, compose
from hostdesk_notify.domain.retry import RetryPolicy

log = logging.getLogger(__name__)

# Mails tried in one call: bounds how long a shutdown waits for the sender.
BATCH = 10


@dataclass(frozen=True)
class FilePolicy:
    """The files of a post go with its mail up to ``max_bytes`` in all, in the post's order; the others are named,
    with a link made from ``link`` (``{ticket_id}`` and ``{attachment_id}`` filled in) when there is
    one."""

    max_bytes: int = 10 * 2**20
    link: str | None = None


@dataclass(frozen=True)
class OutboxSender:
    store: NotifyStore
    mailer: Mailer
    envelope: Envelope
    retry: RetryPolicy
    clock: Clock
    blobs: BlobStore = field(default_factory=MemoryBlobStore)
    files: FilePolicy = field(default_factory=FilePolicy)

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

    async def _files(self, mail: OutgoingMail) -> list[MailFile]:
        """The mail's files: each with its bytes while they fit the bound, else named. Raises ``BlobsUnavailable``:
        a mail never goes without a file it could carry."""
        files, carried = [], 0
        for attachment in mail.attachments:
            link = None
            if self.files.link:
                link = self.files.link.format(ticket_id=mail.ticket_id, attachment_id=attachment.id)
            data = None
            if carried + attachment.size <= self.files.max_bytes:
                data = await self.blobs.get(mail.tenant, attachment.digest)
            if data is not None:
                carried += len(data)
            files.append(MailFile(attachment, data=data, link=link))
        return files

    async def _send(self, claim: OutboxClaim) -> None:
        mail = claim.mail
        try:
            files = await self._files(mail)
        except BlobsUnavailable as error:
            await self._failed(claim, DeliveryFailed(f"the files cannot be read now: {error}"))
            return
        try:
            message = compose(mail, envelope=self.envelope, date=self.clock(), files=files)
        except ValueError as error:  # the stdlib refuses a header it cannot write safely
            await claim.failed(error=f"cannot be written as a mail: {error}", retry_at=None)
            log.error("mail given up: event_id=%s ticket_id=%s: %s", mail.event_id, mail.ticket_id, error)
            return
        try:
            await self.mailer.send(message, sender=self.envelope.sender, recipient=mail.recipient)
        except DeliveryFailed as failure:
            await self._failed(claim, failure)
            return
        await claim.sent(at=self.clock())
        log.info("mail sent: event_id=%s ticket_id=%s message_id=%s", mail.event_id, mail.ticket_id, mail.message_id)

    async def _failed(self, claim: OutboxClaim, failure: DeliveryFailed) -> None:
        mail = claim.mail
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
