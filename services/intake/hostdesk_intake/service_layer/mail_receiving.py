"""Receiving support mail: which addresses take it, and storing a message before anyone is told it was received.

An address takes mail when the directory holds it as a support address that is not retired, or when it is one
with a tag (``support+t482913@example.com``: the per-ticket reply address of ``support@example.com``). Any other
is refused at ``RCPT TO``: the sending MTA bounces it to its sender, so nothing is lost without a word, and intake
is never a sink for mail that is nobody's.

``receive`` stores the raw bytes once per tenant the message came to (in the mail object store, by their
SHA-256), then publishes one ``MailReceived`` per tenant on the mail stream. Only then may the SMTP server answer
``250`` (or a poller delete the mailbox's copy): when either step fails, it raises, and the message is received
again later, whole (the same bytes are the same stored object and the same stream message).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hostdesk_contracts.directory import SupportAddressRecord
from hostdesk_contracts.mail import MailReceived, MailSource
from hostdesk_contracts.runtime.blobs import BlobStore
from hostdesk_contracts.runtime.clock import Clock
from hostdesk_contracts.runtime.directory import Directory

from hostdesk_intake.adapters.mail_stream import MailStream


@dataclass(frozen=True)
class Route:
    """Where mail to an address goes: the support address's record, and its tenant."""

    address: str  # as given (lower-cased), tag included
    support_address: SupportAddressRecord
    tenant: str


def untagged(address: str) -> str:
    """``support+t482913@example.com`` -> ``support@example.com``; an address without a tag as it is."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.partition('+')[0]}@{domain}"


async def support_address_of(directory: Directory, address: str) -> SupportAddressRecord | None:
    """The support address record of ``address`` as given, else of it without its tag; retired or not."""
    address = address.strip().lower()
    for candidate in dict.fromkeys((address, untagged(address))):
        if (record := await directory.support_address(candidate)) is not None:
            return record
    return None


class MailReceiver:
    def __init__(self, *, directory: Directory, store: BlobStore, stream: MailStream, clock: Clock) -> None:
        self._directory = directory
        self._store = store
        self._stream = stream
        self._clock = clock

    async def route(self, address: str) -> Route | None:
        """Where mail to ``address`` goes; ``None`` when it is no support address (or a retired one). Raises
        ``DirectoryUnavailable``."""
        record = await support_address_of(self._directory, address)
        if record is None or record.retired:
            return None
        organisation = await self._directory.principal(record.organisation_id)
        tenant = await self._directory.tenant_of(organisation) if organisation is not None else None
        return None if tenant is None else Route(address=address.strip().lower(), support_address=record, tenant=tenant)

    async def receive(
        self, raw: bytes, *, routes: Iterable[Route], source: MailSource, return_path: str | None
    ) -> list[MailReceived]:
        """Store ``raw`` and publish it for each tenant among ``routes``. Raises ``BlobsUnavailable`` or
        ``MailStreamUnavailable``: then nothing may be acknowledged to the sender."""
        by_tenant: dict[str, list[str]] = {}
        for route in routes:
            recipients = by_tenant.setdefault(route.tenant, [])
            if route.address not in recipients:
                recipients.append(route.address)
        received_at = self._clock()
        published = []
        for tenant, recipients in by_tenant.items():
            mail_id = await self._store.put(tenant, raw)
            mail = MailReceived(
                mail_id=mail_id,
                tenant=tenant,
                size=len(raw),
                source=source,
                return_path=return_path,
                recipients=tuple(sorted(recipients)),
                received_at=received_at,
            )
            await self._stream.received(mail)
            published.append(mail)
        return published
