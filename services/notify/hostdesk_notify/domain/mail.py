"""One mail to one recipient: its stable ids, and the RFC 5322 message built from it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from uuid import UUID

from hostdesk_notify.domain.recipients import MailKind


@dataclass(frozen=True)
class OutgoingMail:
    """A mail to send. ``(event_id, recipient)`` names it: one event mails an address once. ``requester_id``: the
    account whose ticket it is about (None for a ticket notify kept before it knew requesters). ``language``: the
    language it is written in (None for a mail planned before notify wrote each in its reader's). ``reply_to``: the
    ticket's per-ticket reply address (None for a mail planned before there was one: the installation's address).
    ``recipient`` is empty for a mail nobody could be sent, kept in the delivery log only."""

    event_id: str
    recipient: str
    message_id: str
    thread_id: str
    ticket_id: UUID
    tenant: str
    kind: MailKind
    subject: str
    body: str
    requester_id: str | None = None
    language: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class Envelope:
    """Who the installation's mail comes from, and where answers go."""

    from_address: str
    reply_to: str

    @property
    def sender(self) -> str:
        return parseaddr(self.from_address)[1]

    @property
    def domain(self) -> str:
        return mail_domain(self.from_address)


def mail_domain(address: str) -> str:
    """``HostDesk <noreply@example.net>`` -> ``example.net``."""
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def message_id_for(event_id: str, recipient: str, *, domain: str) -> str:
    """The same event to the same address always has the same Message-ID, so a resend is recognisable."""
    digest = hashlib.sha256(f"{event_id}\n{recipient.lower()}".encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def thread_id_for(ticket_id: UUID, *, domain: str) -> str:
    """The id every mail of a ticket refers to, so mail clients show them as one conversation."""
    return f"<ticket-{ticket_id}@{domain}>"


def compose(mail: OutgoingMail, *, envelope: Envelope, date: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = envelope.from_address
    message["To"] = mail.recipient
    message["Reply-To"] = mail.reply_to or envelope.reply_to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = mail.message_id
    message["In-Reply-To"] = mail.thread_id
    message["References"] = mail.thread_id
    message["X-HostDesk-Ticket-Id"] = str(mail.ticket_id)
    if mail.kind.is_notice:
        # RFC 3834: a notice no person wrote; vacation responders must not answer it.
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    if mail.language:  # after the content, which replaces every Content-* header
        message["Content-Language"] = mail.language  # RFC 3282
    return message
