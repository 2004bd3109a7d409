"""What an uploaded file is: its type sniffed from its first bytes (never from its name or the type its sender
claims), its safe name, and the bounds on files a request may bring."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import filetype  # type: ignore[import-untyped]
from hostdesk_contracts.attachments import MAX_ATTACHMENTS_PER_POST, Attachment, safe_name

SNIFFED_BYTES = 8192  # what the type is told from: every signature filetype knows lies within its first 262 bytes
OCTET_STREAM = "application/octet-stream"
_MARKUP = (  # text a browser would render or run, told apart so that downloads can refuse to show it inline
    (b"<!doctype html", "text/html"),
    (b"<html", "text/html"),
    (b"<?xml", "application/xml"),
    (b"<svg", "image/svg+xml"),
)


def media_type_of(data: bytes) -> str:
    """The type of ``data`` by its content: a known signature (images, PDF, archives, office documents, audio,
    video), else markup, else ``text/plain`` for text in UTF-8 without NUL bytes, else ``application/octet-stream``."""
    head = data[:SNIFFED_BYTES]
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime).lower()
    if b"\x00" in head:
        return OCTET_STREAM
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not merely a character cut at the end of the head
            return OCTET_STREAM
        text = head[: error.start].decode("utf-8")
    opening = text.lstrip("\ufeff \t\r\n").encode()[:64].lower()
    for prefix, media_type in _MARKUP:
        if opening.startswith(prefix):
            return media_type
    return "text/plain"


def new_attachment_id() -> str:
    return f"att_{secrets.token_hex(16)}"


def attachment_of(data: bytes, *, name: str | None, digest: str) -> Attachment:
    """The record of a file stored under ``digest``: a new id, its safe name, its sniffed type and size."""
    return Attachment(
        id=new_attachment_id(), name=safe_name(name), media_type=media_type_of(data), size=len(data), digest=digest
    )


@dataclass(frozen=True)
class UploadBounds:
    """How much one upload may bring: files of at most ``max_file_bytes`` each, at most ``max_files`` of them."""

    max_file_bytes: int
    max_files: int = MAX_ATTACHMENTS_PER_POST


@dataclass(frozen=True)
class Upload:
    """A file uploaded by an account of a tenant, not attached yet: only that account may attach it."""

    tenant: str
    account_id: str
    attachment: Attachment

    def belongs_to(self, tenant: str, account_id: str) -> bool:
        return self.tenant == tenant and self.account_id == account_id
