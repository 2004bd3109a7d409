"""One mail to one recipient: its stable ids, and the RFC 5322 message built from it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from uuid import UUID

from hostdesk_contracts.attachments import Attachment

from hostdesk_notify.domain.recipients import MailKind


@dataclass(frozen=True)
class OutgoingMail:
    """A mail to send. ``(event_id, recipient)`` names it: one event mails an address once. ``requester_id``: the
    account whose ticket it is about (None for a ticket notify kept before it knew requesters). ``language``: the
    language it is written in (None for a mail planned before notify wrote each in its reader's). ``reply_to``: the
    ticket's per-ticket reply address (None for a mail planned before there was one: the installation's address).
    ``attachments``: the files of the post it is about, to attach or to name. ``recipient`` is empty for a mail
    nobody could be sent, kept in the delivery log only."""

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
    attachments: tuple[Attachment, ...] = ()


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


@dataclass(frozen=True)
class MailFile:
    """A file of the post a mail is about: ``data`` when it goes with the mail, None when it is only named (over the
    bound on a mail's files, or no longer in the store), with ``link`` to it when there is one."""

    attachment: Attachment
    data: bytes | None = None
    link: str | None = None


_NAMED_FILES = {
    "en": "Files of this message on the ticket's page:",
    "fr": "Fichiers de ce message sur la page du ticket :",
}


def _size(size: int) -> str:
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def named_files(files: Sequence[MailFile], *, language: str | None) -> str:
    """The paragraph that names the files not attached, in the mail's language; empty when all are attached."""
    named = [each for each in files if each.data is None]
    if not named:
        return ""
    lines = [_NAMED_FILES.get(language or "en", _NAMED_FILES["en"])]
    for each in named:
        line = f"- {each.attachment.name} ({_size(each.attachment.size)})"
        lines.append(f"{line}: {each.link}" if each.link else line)
    return "\n\n" + "\n".join(lines) + "\n"


def compose(mail: OutgoingMail, *, envelope: Envelope, date: datetime, files: Sequence[MailFile] = ()) -> EmailMessage:
    """The message of ``mail``, with the ``files`` that carry their bytes attached and the others named."""
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
    message.set_content(mail.body + named_files(files, language=mail.language))
    for each in files:
        if each.data is not None:
            maintype, _, subtype = each.attachment.media_type.partition("/")
            message.add_attachment(each.data, maintype=maintype, subtype=subtype, filename=each.attachment.name)
    if mail.language:  # after the content, which replaces every Content-* header
        message["Content-Language"] = mail.language  # RFC 3282
    return message
