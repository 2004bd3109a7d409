"""Support mail as it travels on the mail stream (``<ROOT>_MAIL``): a message received, and what became of it.

``MailReceived`` is published once a message's raw bytes are stored (the object store ``<ROOT>_MAIL``, under
``<tenant>.<mail_id>``), before the SMTP server answers ``250`` or a mailbox's copy is deleted: from then on the
message cannot be lost. Intake's mail consumer reads each and publishes what became of it as a ``MailOutcome``:

- ``posted``: it opened a ticket or became a reply (``ticket_id``, ``number``, ``opened``);
- ``screened``: an auto-reply, a bounce, bulk mail, a loop or a flood from one sender, which makes no ticket and no
  reply (``reason`` says which);
- ``quarantined``: it could not be read or processed (``reason``); its raw bytes are kept, to download and to
  replay once the cause is fixed.

The outcomes are the mail log staff read, per tenant (``<root>.mail.<tenant>.<outcome>``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from hostdesk_contracts.base import Contract, Tenant

MailId = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="The SHA-256 of the raw bytes, in hex.")]


class MailSource(StrEnum):
    SMTP = "smtp"  # the provider's MTA forwarded it to intake's listener
    IMAP = "imap"
    POP3 = "pop3"
    REPLAY = "replay"  # staff replayed it from the quarantine


class MailReceived(Contract):
    type: Literal["mail.received.v1"] = "mail.received.v1"
    mail_id: MailId
    tenant: Tenant
    size: int = Field(ge=0)
    source: MailSource
    return_path: str | None = Field(
        default=None, description="The SMTP envelope's sender ('' for the null sender of bounces); None if unknown."
    )
    recipients: tuple[str, ...] = Field(description="The support addresses it came to, lower-cased.", min_length=1)
    received_at: AwareDatetime


class MailResult(StrEnum):
    POSTED = "posted"
    SCREENED = "screened"
    QUARANTINED = "quarantined"


class MailOutcome(Contract):
    type: Literal["mail.outcome.v1"] = "mail.outcome.v1"
    mail_id: MailId
    tenant: Tenant
    result: MailResult
    reason: str | None = Field(default=None, description="Why it was screened or quarantined, for staff.")
    source: MailSource
    recipients: tuple[str, ...]
    received_at: AwareDatetime
    decided_at: AwareDatetime
    identity: str | None = Field(default=None, description="The message's identity: the same message has one.")
    message_id: str | None = None
    sender: str | None = None
    subject: str | None = None
    ticket_id: UUID | None = None
    number: int | None = None
    opened: bool = Field(default=False, description="Posted as a new ticket, not as a reply.")
    command_id: str | None = None
