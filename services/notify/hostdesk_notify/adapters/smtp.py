"""Sending mail over SMTP with aiosmtplib: the ``Mailer`` port's implementation.

Connections are kept and reused, up to ``connections`` of them (one per mail being sent at once): a new connection
for every mail cost its greeting, ``EHLO``, ``STARTTLS`` and login, several times the mail itself. A kept
connection the server has closed meanwhile (servers drop idle sessions) is found out at the mail's first command;
the mail is then sent at once on a new connection. (A session dropped after the mail's last line leaves it, as
with any SMTP client, to the server whether it took it; that is the one case in which a mail may arrive twice.)
A connection that failed in any other way is closed, never reused.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib

from hostdesk_notify.adapters.ports import DeliveryFailed


@dataclass
class SmtpMailer:
    hostname: str
    port: int
    timeout: float
    start_tls: bool = False
    username: str | None = None
    password: str | None = None
    connections: int = 4
    _idle: list[aiosmtplib.SMTP] = field(default_factory=list, init=False, repr=False)
    _slots: asyncio.Semaphore | None = field(default=None, init=False, repr=False)

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.connections)
        async with self._slots:
            smtp, reused = await self._connection()
            try:
                try:
                    await smtp.send_message(message, sender=sender, recipients=[recipient])
                except aiosmtplib.SMTPServerDisconnected:
                    if not reused:
                        raise
                    await _close(smtp)  # dropped while idle: the server took nothing of this mail
                    smtp, reused = await self._connection(fresh=True)
                    await smtp.send_message(message, sender=sender, recipients=[recipient])
            except aiosmtplib.SMTPRecipientsRefused as error:
                await self._release(smtp, reset=True)
                refused = error.recipients
                permanent = bool(refused) and all(500 <= r.code < 600 for r in refused)
                reasons = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refused)
                raise DeliveryFailed(f"recipient refused: {reasons}", permanent=permanent) from error
            except aiosmtplib.SMTPDataError as error:
                await self._release(smtp, reset=True)
                raise DeliveryFailed(f"{error.code} {error.message}", permanent=500 <= error.code < 600) from error
            except (aiosmtplib.SMTPException, OSError) as error:
                await _close(smtp)
                raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
            except BaseException:
                await _close(smtp)  # cancelled mid-session: the session's state is unknown
                raise
            self._idle.append(smtp)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp in idle:
            await _close(smtp, polite=True)

    async def _connection(self, *, fresh: bool = False) -> tuple[aiosmtplib.SMTP, bool]:
        """A kept connection (and True), else a new one, logged in."""
        while self._idle and not fresh:
            smtp = self._idle.pop()
            if smtp.is_connected:
                return smtp, True
        smtp = aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            timeout=self.timeout,
            start_tls=self.start_tls,
            username=self.username,
            password=self.password,
        )
        try:
            await smtp.connect()
        except (aiosmtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
        return smtp, False

    async def _release(self, smtp: aiosmtplib.SMTP, *, reset: bool) -> None:
        """Keep a connection after a refusal, once it is back to its start (``RSET``); close it if that fails."""
        try:
            if reset:
                await smtp.rset()
        except (aiosmtplib.SMTPException, OSError):
            await _close(smtp)
            return
        self._idle.append(smtp)


async def _close(smtp: aiosmtplib.SMTP, *, polite: bool = False) -> None:
    if polite:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await smtp.quit()
            return
    smtp.close()
