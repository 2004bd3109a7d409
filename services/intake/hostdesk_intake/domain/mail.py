"""An inbound support e-mail, read: who sent it and to whom, its subject, its text and the reply its writer wrote
above what it quotes, its files, and the hints that thread it to a ticket; or why it cannot be read, for
quarantine; and whether it is mail no ticket is made of and no one answers (``screening``). Pure rules: bytes in,
values out, and never any exception but ``Unreadable``, whatever the bytes.

A message is quarantined (``Unreadable``) when it is empty or opens with no header field, when its header block
holds a NUL byte or is over ``MailLimits.max_header_bytes``, when its parts nest deeper or are more than the limits
allow, when one file is over ``max_attachment_bytes`` or there are more files than ``max_attachments``, and when it
has no From address. Broken MIME that still gives text (a missing closing boundary or Content-Type, bad base64
padding, a wrong or unknown charset) is read as well as it can be; so is a message without Date or Message-ID.

The text is the first text/plain part of a multipart/alternative, else its HTML as text, and in a multipart/mixed
every inline text part in order. Files are the attachments and named inline parts (images of an HTML message
among them), each named by ``safe_name`` and typed by its bytes; an enclosed message is a file named after its
subject, ``.eml``. Signature parts of signed mail and unnamed inline images are no files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.header import Header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses

from hostdesk_contracts.attachments import MAX_ATTACHMENTS_PER_POST, safe_name

from hostdesk_intake.domain.attachments import media_type_of
from hostdesk_intake.domain.mail_raw import (
    has_header_block,
    header_block_size,
    header_holds_nul,
    identity_of,
    shape_of,
)
from hostdesk_intake.domain.mail_replies import trimmed_reply
from hostdesk_intake.domain.mail_screening import Screened, screening
from hostdesk_intake.domain.mail_text import decoded, header_text, html_text, raw_header_text, tidy
from hostdesk_intake.domain.mail_threading import plus_ticket_number, thread_ticket_ids, ticket_numbers_in

__all__ = [
    "CUT_NOTE",
    "DEFAULT_LIMITS",
    "NO_SUBJECT",
    "NO_TEXT",
    "InboundMail",
    "MailAddress",
    "MailFile",
    "MailLimits",
    "Screened",
    "Unreadable",
    "identity_of",
    "plus_ticket_number",
    "read_mail",
    "screening",
    "thread_ticket_ids",
    "ticket_numbers_in",
]

NO_SUBJECT = "(no subject)"
NO_TEXT = "(no text)"
CUT_NOTE = "[cut: the full message is kept]"
SOURCE_CHARS_PER_TEXT_CHAR = 10  # how much of a part's text (HTML markup and all) is read for each character kept
# The standard library's compat32 policy, not its default one: it keeps header values as the bytes came (raw 8-bit
# bytes included, which are read here as UTF-8 or Windows-1252 where the default policy turns them into U+FFFD),
# and it never runs the default policy's structured header parser, whose failures on malformed headers are
# exceptions of many kinds. Headers are decoded here, leniently, by ``mail_text``.
_POLICY = compat32
_ENCLOSED_POLICY = compat32.clone(linesep="\r\n", max_line_length=None)  # an enclosed message as a .eml file
_ATOM = r"[^\x00-\x20\x7f@<>()\[\],;:\"\\]+"  # a run of what an address may hold, "@" aside
_ADDRESS = re.compile(rf"{_ATOM}@{_ATOM}\.{_ATOM}")
_MESSAGE_ID = re.compile(r"<([^<>\s@]+@[^<>\s@]+)>")
_LANGUAGE = re.compile(r"[a-z]{1,8}")
_SIGNATURE_TYPES = {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"}
_BODY_TYPES = {"text/plain", "text/html"}


@dataclass(frozen=True)
class MailLimits:
    """How much one message may bring; past any of these it is quarantined, but for the body, which is cut."""

    max_attachment_bytes: int = 20 * 1024 * 1024
    max_attachments: int = MAX_ATTACHMENTS_PER_POST
    max_parts: int = 200  # MIME parts in all
    max_depth: int = 20  # multiparts and enclosed messages, one within the other
    max_header_bytes: int = 256 * 1024  # the top header block, all its lines together
    max_body_chars: int = 100_000  # the text kept, its cut note included


DEFAULT_LIMITS = MailLimits()


@dataclass(frozen=True)
class MailAddress:
    address: str  # lower-cased, as given (an IDNA domain stays ASCII)
    name: str | None  # the display name, decoded


@dataclass(frozen=True)
class MailFile:
    name: str  # through safe_name
    data: bytes
    media_type: str  # sniffed from data


@dataclass(frozen=True)
class InboundMail:
    identity: str  # the SHA-256 of the message less its trace fields: one message, one identity
    message_id: str | None  # without angle brackets; None when absent or malformed
    sender: MailAddress  # the first From address
    reply_to: MailAddress | None
    to: tuple[MailAddress, ...]
    cc: tuple[MailAddress, ...]
    subject: str  # decoded, white space collapsed; NO_SUBJECT when empty
    text: str  # the whole message as plain text; NO_TEXT when it has none
    reply: str  # text less the quoted message and the signature; text when nothing is left
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    files: tuple[MailFile, ...]
    language_hint: str | None  # the primary tag of Content-Language, lower-cased


class Unreadable(Exception):
    """The message cannot be read; ``reason`` says why, to a support agent looking into the quarantine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_mail(raw: bytes, *, limits: MailLimits = DEFAULT_LIMITS) -> InboundMail:
    """The message ``raw``, read; raises ``Unreadable`` and nothing else."""
    try:
        return _read(raw, limits)
    except Unreadable:
        raise
    # Whatever else reading hostile bytes raises in the email package or below (RecursionError, LookupError,
    # UnicodeError, ValueError, IndexError, ...), the message is unreadable: quarantined, never a crash.
    except Exception as error:
        raise Unreadable(f"the message's structure cannot be read ({type(error).__name__})") from error


def _read(raw: bytes, limits: MailLimits) -> InboundMail:
    _check_bytes(raw, limits)
    message = BytesParser(policy=_POLICY).parsebytes(raw)
    senders = _addresses(message.get_all("From"))
    if not senders:
        raise Unreadable("the From header names no address" if "From" in message else "the message has no From header")
    contents = _contents(message)
    text = _text(contents, limits)
    return InboundMail(
        identity=identity_of(raw),
        message_id=_message_id(message.get("Message-ID")),
        sender=senders[0],
        reply_to=next(iter(_addresses(message.get_all("Reply-To"))), None),
        to=_addresses(message.get_all("To")),
        cc=_addresses(message.get_all("Cc")),
        subject=" ".join(header_text(message.get("Subject")).split()) or NO_SUBJECT,
        text=text,
        reply=trimmed_reply(text),
        in_reply_to=_message_ids(message.get_all("In-Reply-To")),
        references=_message_ids(message.get_all("References")),
        files=_files(contents.files, limits),
        language_hint=_language(message.get("Content-Language")) or contents.language,
    )


def _check_bytes(raw: bytes, limits: MailLimits) -> None:
    if not raw.strip():
        raise Unreadable("the message is empty")
    if not has_header_block(raw):
        raise Unreadable("the message has no header block: its first line is no header field")
    if header_block_size(raw, max_bytes=limits.max_header_bytes) is None:
        raise Unreadable(f"the header block is over the limit of {limits.max_header_bytes} bytes")
    if header_holds_nul(raw, max_bytes=limits.max_header_bytes):
        raise Unreadable("the header block holds a NUL byte")
    shape = shape_of(raw, max_depth=limits.max_depth, max_parts=limits.max_parts)
    if shape.depth > limits.max_depth:
        raise Unreadable(f"the message nests its parts deeper than the limit of {limits.max_depth}")
    if shape.parts > limits.max_parts:
        raise Unreadable(f"the message has more parts than the limit of {limits.max_parts}")


def _addresses(values: list[str] | None) -> tuple[MailAddress, ...]:
    """The usable addresses of these header values, in order: display names decoded after the addresses are told
    apart (a decoded name may hold a comma)."""
    found: list[MailAddress] = []
    for name, address in getaddresses([raw_header_text(value) for value in values or ()]):
        address = address.strip().lower()
        if _ADDRESS.fullmatch(address):
            found.append(MailAddress(address=address, name=" ".join(header_text(name).split()) or None))
    return tuple(found)


def _message_id(value: str | Header | None) -> str | None:
    given = _MESSAGE_ID.fullmatch(raw_header_text(value).strip())
    return given.group(1) if given else None


def _message_ids(values: list[str] | None) -> tuple[str, ...]:
    ids = (found for value in values or () for found in _MESSAGE_ID.findall(raw_header_text(value)))
    return tuple(dict.fromkeys(ids))


def _language(value: str | Header | None) -> str | None:
    primary = raw_header_text(value).split(",")[0].strip().split("-")[0].lower()
    return primary if _LANGUAGE.fullmatch(primary) else None


@dataclass
class _Contents:
    """What a message's parts hold: its text parts, the parts that are files, and the language its first text part
    says it is in."""

    texts: list[Message] = field(default_factory=list)
    files: list[Message] = field(default_factory=list)
    language: str | None = None


def _contents(message: Message) -> _Contents:
    """The parts of ``message`` in order, walked with a list of its own rather than recursion."""
    contents = _Contents()
    pending: list[tuple[Message, bool]] = [(message, True)]  # a part, and whether its text is the message's
    while pending:
        part, for_text = pending.pop()
        media_type = part.get_content_type()
        if media_type == "message/rfc822":
            contents.files.append(part)
        elif part.get_content_maintype() == "message" or media_type in _SIGNATURE_TYPES:
            continue  # a delivery report's status fields and the like; a signature of signed mail
        elif part.is_multipart():
            pending.extend(reversed(_children(part, for_text=for_text)))
        elif _is_body(part):
            if for_text:
                contents.texts.append(part)
                contents.language = contents.language or _language(part.get("Content-Language"))
        elif part.get_filename() or part.get_content_disposition() == "attachment":
            contents.files.append(part)
        elif part.get_content_maintype() not in ("text", "image"):
            contents.files.append(part)  # a file sent without a name (an unnamed inline image is the HTML's)
    return contents


def _children(part: Message, *, for_text: bool) -> list[tuple[Message, bool]]:
    children = [child for child in part.get_payload() if isinstance(child, Message)]
    chosen = _alternative(children) if part.get_content_type() == "multipart/alternative" else None
    return [(child, for_text and (chosen is None or child is chosen)) for child in children]


def _alternative(children: list[Message]) -> Message | None:
    """The alternative read as the text: text/plain when it says something, else a multipart, else HTML."""
    for wanted in ("text/plain", "multipart/", "text/html"):
        for child in children:
            if child.get_content_type().startswith(wanted) and (wanted != "text/plain" or _payload(child).strip()):
                return child
    return None


def _is_body(part: Message) -> bool:
    """An inline text part, or a multipart whose boundary is missing (read as text rather than lost)."""
    kind = part.get_content_type()
    readable = kind in _BODY_TYPES or part.get_content_maintype() == "multipart"
    return readable and not part.get_filename() and part.get_content_disposition() != "attachment"


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _text(contents: _Contents, limits: MailLimits) -> str:
    source_max = limits.max_body_chars * SOURCE_CHARS_PER_TEXT_CHAR
    pieces: list[str] = []
    cut = False
    for part in contents.texts:
        source = decoded(_payload(part), part.get_content_charset())
        cut = cut or len(source) > source_max
        piece = (
            html_text(_markup_cut(source, source_max))
            if part.get_content_type() == "text/html"
            else tidy(source[:source_max])
        )
        if piece:
            pieces.append(piece)
    return _bounded("\n\n".join(pieces) or NO_TEXT, max_chars=limits.max_body_chars, cut=cut)


def _markup_cut(html: str, max_chars: int) -> str:
    """The first ``max_chars`` of ``html``, less a tag the cut leaves open (which would read as text)."""
    kept = html[:max_chars]
    opened = kept.rfind("<")
    return kept[:opened] if len(html) > max_chars and opened > kept.rfind(">") else kept


def _bounded(text: str, *, max_chars: int, cut: bool) -> str:
    """``text`` within ``max_chars``, the cut note included, when it is longer or was cut before."""
    if len(text) <= max_chars and not cut:
        return text
    kept = text[: max(max_chars - len(CUT_NOTE) - 2, 0)].rstrip()
    return f"{kept}\n\n{CUT_NOTE}" if kept else CUT_NOTE


def _files(parts: list[Message], limits: MailLimits) -> tuple[MailFile, ...]:
    if len(parts) > limits.max_attachments:
        raise Unreadable(f"the message has {len(parts)} attachments, over the limit of {limits.max_attachments}")
    files: list[MailFile] = []
    for part in parts:
        enclosed = part.get_content_type() == "message/rfc822"
        data = _enclosed_bytes(part) if enclosed else _payload(part)
        if len(data) > limits.max_attachment_bytes:
            raise Unreadable(f"an attachment of {len(data)} bytes is over the limit of {limits.max_attachment_bytes}")
        name = _enclosed_name(part) if enclosed else safe_name(header_text(part.get_filename()) or None)
        files.append(MailFile(name=name, data=data, media_type=media_type_of(data)))
    return tuple(files)


def _enclosed_message(part: Message) -> Message | None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    return inner if isinstance(inner, Message) else None


def _enclosed_bytes(part: Message) -> bytes:
    inner = _enclosed_message(part)
    return inner.as_bytes(policy=_ENCLOSED_POLICY) if inner is not None else _payload(part)


def _enclosed_name(part: Message) -> str:
    inner = _enclosed_message(part)
    subject = " ".join(header_text(inner.get("Subject") if inner is not None else None).split())
    title = subject.replace("/", "-").replace("\\", "-")  # a subject, not a path: its slashes are kept as dashes
    return safe_name(f"{title or 'message'}.eml")
