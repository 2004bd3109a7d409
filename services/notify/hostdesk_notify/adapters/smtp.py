"""Sending mail over SMTP with aiosmtplib, behind the ``Mailer`` port."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib


class DeliveryFailed(Exception):
    """The mail server did not take the mail. ``permanent`` when trying again cannot help: a 5xx answer about
    this mail (its recipient or its content). Refusals of our own login or sender are settings to fix, and
    the mail waits for them."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        """Hand the message to the mail server for one recipient, or raise ``DeliveryFailed``."""
        ...


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
