"""Polling a support mailbox (IMAP or POP3): each message waiting is stored and published like one the SMTP
listener takes (``MailReceiver.receive``), and deleted from the mailbox only then.

A poll is one session of at most ``BATCH`` messages, oldest first; the deletions take effect when it ends well, and
the next poll follows at once while messages wait. The messages are fetched a few at a time (``STORED_AT_ONCE``,
``STORED_BYTES_AT_ONCE``), stored at once, and each deleted once stored. When storing a message fails (NATS away),
the poll ends after its chunk: the messages stored are deleted, the others stay for the next poll. A message over
the size limit is left in the mailbox (staff fetch it there) and counted in the status. The envelope is not in the
mailbox: a message's recipients are the mailbox's address and the tagged forms of it its headers name
(``recipients_in``), so a reply to a per-ticket reply address delivered to the mailbox threads as it would through
SMTP. Every poll writes the mailbox's status: when it ran, what it received, what waits, and why it failed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hostdesk_contracts.directory import MailboxProtocol, MailboxRecord, SupportAddressRecord
from hostdesk_contracts.mail import MailSource
from hostdesk_contracts.runtime.blobs import BlobsUnavailable
from hostdesk_contracts.runtime.clock import Clock
from hostdesk_contracts.runtime.directory import DirectoryUnavailable
from hostdesk_contracts.runtime.sealing import NoSealingKey, SealBroken, Sealer

from hostdesk_intake.adapters.mail_stream import MailStreamUnavailable
from hostdesk_intake.adapters.mailbox_status import MailboxStatuses, StatusUnavailable
from hostdesk_intake.adapters.mailboxes import Letter, MailboxClient, MailboxUnavailable
from hostdesk_intake.domain.mail_raw import return_path_of
from hostdesk_intake.domain.mailboxes import BATCH, MailboxStatus, may_poll, recipients_in
from hostdesk_intake.service_layer.mail_receiving import MailReceiver, Route

log = logging.getLogger(__name__)

SOURCES = {MailboxProtocol.IMAP: MailSource.IMAP, MailboxProtocol.POP3: MailSource.POP3}
STORED_AT_ONCE = 8  # messages fetched, then stored at once, then deleted, in a session ...
STORED_BYTES_AT_ONCE = 32 * 1024 * 1024  # ... and no more bytes than this (one larger message is a chunk alone)


def chunks(letters: Sequence[Letter], *, max_count: int, max_bytes: int) -> Iterator[list[Letter]]:
    """``letters`` in order, in chunks of at most ``max_count`` messages and ``max_bytes`` (but one each)."""
    chunk: list[Letter] = []
    size = 0
    for letter in letters:
        if chunk and (len(chunk) == max_count or size + letter.size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(letter)
        size += letter.size
    if chunk:
        yield chunk


@dataclass(frozen=True)
class Poll:
    """What one poll did: ``more`` when messages it could have fetched wait still (poll again at once)."""

    status: MailboxStatus | None  # None: another replica polls this mailbox
    more: bool = False


class MailboxPoller:
    def __init__(
        self,
        *,
        receiver: MailReceiver,
        client: MailboxClient,
        statuses: MailboxStatuses,
        sealer: Sealer,
        clock: Clock,
        instance: str,
        max_bytes: int,
        batch: int = BATCH,
    ) -> None:
        self._receiver = receiver
        self._client = client
        self._statuses = statuses
        self._sealer = sealer
        self._clock = clock
        self._instance = instance
        self._max_bytes = max_bytes
        self._batch = batch

    async def poll(self, address: SupportAddressRecord) -> Poll:
        """Poll the address's mailbox once, unless another replica polls it. Raises ``StatusUnavailable`` when
        the lease cannot be read or taken (NATS away): nothing was fetched."""
        mailbox = address.mailbox
        assert mailbox is not None
        held, revision = await self._statuses.get(address.address)
        now = self._clock()
        if not may_poll(held, me=self._instance, now=now, interval_seconds=mailbox.interval_seconds):
            return Poll(status=None)
        status = MailboxStatus(
            address=address.address,
            protocol=mailbox.protocol,
            holder=self._instance,
            polled_at=now,
            succeeded_at=held.succeeded_at if held is not None and held.holder == self._instance else None,
        )
        taken = await self._statuses.put(status, revision=revision)  # the lease, taken before the fetch
        if taken is None:
            return Poll(status=None)  # another replica took it this very moment
        ended, more = await self._session(address, status)
        try:
            await self._statuses.put(ended, revision=taken)
        except StatusUnavailable:
            log.warning("the status of mailbox %s could not be written", address.address)
        return Poll(status=ended, more=more)

    async def _store(self, raw: bytes, route: Route, mailbox: MailboxRecord) -> Exception | None:
        """Store and publish one message (``MailReceiver.receive``): ``None`` once done, else why it could not be."""
        routes = [dataclasses.replace(route, address=each) for each in recipients_in(raw, route.address)]
        try:
            await self._receiver.receive(
                raw, routes=routes, source=SOURCES[mailbox.protocol], return_path=return_path_of(raw)
            )
        except (DirectoryUnavailable, BlobsUnavailable, MailStreamUnavailable) as error:
            return error
        return None

    async def _session(self, address: SupportAddressRecord, status: MailboxStatus) -> tuple[MailboxStatus, bool]:
        mailbox = address.mailbox
        assert mailbox is not None
        try:
            password = self._sealer.open(mailbox.password_sealed)
        except (NoSealingKey, SealBroken) as error:
            return status.model_copy(update={"error": f"the password cannot be opened: {error}"}), False
        try:
            route = await self._receiver.route(address.address)
        except DirectoryUnavailable as error:
            return status.model_copy(update={"error": str(error)}), False
        if route is None:
            return status.model_copy(
                update={"error": "the address takes no mail (retired, or its tree is broken)"}
            ), False
        try:
            session = await self._client.open(mailbox, password)
        except MailboxUnavailable as error:
            return status.model_copy(update={"error": f"the mailbox cannot be opened: {error}"}), False
        received = too_large = 0
        error_text: str | None = None
        try:
            letters = await session.letters()
            fitting = [each for each in letters if each.size <= self._max_bytes]
            too_large = len(letters) - len(fitting)
            for chunk in chunks(fitting[: self._batch], max_count=STORED_AT_ONCE, max_bytes=STORED_BYTES_AT_ONCE):
                fetched = [(letter, await session.fetch(letter)) for letter in chunk]  # one session: in turn
                # The chunk's messages stored at once (each its own round trips to NATS), then deleted in order.
                stored = await asyncio.gather(*(self._store(raw, route, mailbox) for _, raw in fetched))
                for (letter, _), failure in zip(fetched, stored, strict=True):
                    if failure is None:
                        await session.delete(letter)
                        received += 1
                    else:
                        error_text = f"a message could not be stored, and was left in the mailbox: {failure}"
                if error_text is not None:
                    break
            await session.close()  # the deletions take effect now
        except MailboxUnavailable as error:
            await session.abort()
            # Deletions asked for in a session that broke off never took effect: those messages come again.
            error_text, received = f"the mailbox broke off: {error}", 0
            letters = fitting = []
        if received:
            log.info("mailbox %s: %d messages received", address.address, received)
        ended = status.model_copy(
            update={
                "error": error_text,
                "succeeded_at": self._clock() if error_text is None else status.succeeded_at,
                "received": received,
                "waiting": len(letters) - received,
                "too_large": too_large,
            }
        )
        return ended, error_text is None and len(fitting) > received
