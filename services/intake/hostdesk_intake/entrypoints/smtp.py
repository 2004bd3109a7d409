"""Intake's SMTP listener (aiosmtpd): the provider's MTA forwards the mail of its support addresses to it.

- ``RCPT TO`` an address that is no support address (nor one's per-ticket reply address) is refused with ``550``:
  the sending MTA bounces the message to its sender. While the directory cannot be read, ``451``: try later.
- ``DATA``: the message is stored and published (``MailReceiver.receive``) before the ``250``; when that fails,
  ``451`` tells the MTA to keep the message and send it again. A message over ``max_bytes`` is refused with
  ``552`` by aiosmtpd itself, before it is stored.

The listener runs on intake's own event loop, beside its HTTP API, one per replica (each may take any message:
what follows is exactly once whichever replica stored it, and however often).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from hostdesk_contracts.mail import MailSource
from hostdesk_contracts.runtime.blobs import BlobsUnavailable
from hostdesk_contracts.runtime.directory import DirectoryUnavailable

from hostdesk_intake.adapters.mail_stream import MailStreamUnavailable
from hostdesk_intake.service_layer.mail_receiving import MailReceiver, Route

log = logging.getLogger(__name__)
# aiosmtpd logs every line of every SMTP session at INFO, senders' and recipients' addresses with it: a cost on each
# message and personal data in the log. Its warnings and errors still show.
logging.getLogger("mail.log").setLevel(logging.WARNING)

MAX_RECIPIENTS = 100  # support addresses one message may name in its envelope


class SupportMailHandler:
    """aiosmtpd's handler: its ``handle_RCPT`` and ``handle_DATA`` hooks."""

    def __init__(self, receiver: MailReceiver) -> None:
        self._receiver = receiver

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            route = await self._receiver.route(address)
        except DirectoryUnavailable:
            return "451 4.3.0 The support addresses cannot be looked up now; try again later"
        if route is None:
            return "550 5.1.1 No support mailbox here by that address"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content
        if not isinstance(raw, bytes):
            return "554 5.6.0 The message has no content"
        try:
            routes: list[Route] = []
            for address in envelope.rcpt_tos:
                if (route := await self._receiver.route(address)) is not None:
                    routes.append(route)
            if not routes:
                return "550 5.1.1 None of the recipients is a support address any more"
            received = await self._receiver.receive(
                raw, routes=routes, source=MailSource.SMTP, return_path=envelope.mail_from
            )
        except (DirectoryUnavailable, BlobsUnavailable, MailStreamUnavailable) as error:
            log.warning("a message from %r could not be received now: %s", envelope.mail_from, error)
            return "451 4.3.0 The message could not be stored now; try again later"
        log.info("mail received: %s from %r to %s", received[0].mail_id, envelope.mail_from, envelope.rcpt_tos)
        return f"250 OK: queued as {received[0].mail_id[:16]}"


async def start_smtp(
    receiver: MailReceiver,
    *,
    host: str,
    port: int,
    max_bytes: int,
    reuse_port: bool = False,
    hostname: str | None = None,
) -> asyncio.Server:
    """Listen on ``host``:``port`` until the server is closed; with ``reuse_port``, beside the service's other
    processes on this machine (as its HTTP port is shared)."""
    loop = asyncio.get_running_loop()
    handler = SupportMailHandler(receiver)

    def protocol() -> SMTP:
        options: dict[str, Any] = {"data_size_limit": max_bytes, "enable_SMTPUTF8": True, "hostname": hostname}
        return SMTP(handler, loop=loop, ident="HostDesk intake", **options)

    return await loop.create_server(protocol, host=host, port=port, reuse_port=reuse_port or None)
