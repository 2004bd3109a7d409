"""Sending mail over SMTP with aiosmtplib: the ``Mailer`` port's implementation."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from hostdesk_notify.adapters.ports import DeliveryFailed


@dataclass(frozen=True)
class SmtpMailer:
    hostname: str
    port: int
    timeout: float
    start_tls: bool = False
    username: str | None = None
    password: str | None = None

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=[recipient],
                hostname=self.hostname,
                port=self.port,
                timeout=self.timeout,
                start_tls=self.start_tls,
                username=self.username,
                password=self.password,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            refused = error.recipients
            permanent = bool(refused) and all(500 <= r.code < 600 for r in refused)
            reasons = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refused)
            raise DeliveryFailed(f"recipient refused: {reasons}", permanent=permanent) from error
        except aiosmtplib.SMTPDataError as error:
            raise DeliveryFailed(f"{error.code} {error.message}", permanent=500 <= error.code < 600) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
