"""Attachments: what a post says of each file attached to it. Never the bytes.

A file's bytes are stored once by their content (``digest``, the SHA-256 of the bytes) in the attachment store
(``hostdesk_contracts.runtime.blobs``); a post names each of its files by an ``Attachment``: an id of its own (the
same file attached to two posts is two attachments of one stored content), the safe name shown and offered on
download, the media type sniffed from the bytes (never the name's or the sender's say), the size and the digest.
Events carry these records (``TicketOpened``, ``ReplyPosted``, merged posts), so every subscriber knows what a post
holds without fetching it; a download is asked of the query service, which lets through only a caller who may see
the post (an internal note's files are the handling side's only).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import Field

from hostdesk_contracts.base import Contract

MAX_ATTACHMENTS_PER_POST = 10
ATTACHMENT_NAME_MAX_CHARS = 200
ATTACHMENT_ID_PATTERN = r"^att_[0-9a-f]{32}$"
DIGEST_PATTERN = r"^[0-9a-f]{64}$"
MEDIA_TYPE_PATTERN = r"^[a-z0-9][a-z0-9.+-]{0,63}/[a-z0-9][a-z0-9.+-]{0,127}$"
FALLBACK_NAME = "attachment"

AttachmentId = Annotated[str, Field(pattern=ATTACHMENT_ID_PATTERN, description="att_ and 32 hexadecimal digits")]
Digest = Annotated[str, Field(pattern=DIGEST_PATTERN, description="The SHA-256 of the bytes, in hexadecimal.")]


class Attachment(Contract):
    id: AttachmentId
    name: str = Field(min_length=1, max_length=ATTACHMENT_NAME_MAX_CHARS, description="A safe file name.")
    media_type: str = Field(pattern=MEDIA_TYPE_PATTERN, description="Sniffed from the content.")
    size: int = Field(ge=0, description="In bytes.")
    digest: Digest


Attachments = Annotated[tuple[Attachment, ...], Field(max_length=MAX_ATTACHMENTS_PER_POST)]

# Characters a file name never keeps: controls (C0, C1, DEL), format characters (bidi overrides and isolates that
# make "gpj.exe" read "exe.jpg", zero-width joiners), separators of lines and paragraphs, surrogates, unassigned.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)  # Windows device names


def safe_name(name: str | None) -> str:
    """The name a file is shown and downloaded under: its last path segment (``/`` and ``\\`` alike), in NFC,
    without control, format or bidi characters, dots and spaces trimmed at both ends, at most
    ``ATTACHMENT_NAME_MAX_CHARS`` characters with its extension kept; ``attachment`` when nothing is left."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(" " if ch.isspace() else ch for ch in text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    text = re.sub(r" {2,}", " ", text).strip(" .")
    if _RESERVED.match(text):
        text = f"_{text}"
    if len(text) > ATTACHMENT_NAME_MAX_CHARS:
        stem, dot, extension = text.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            text = f"{stem[: ATTACHMENT_NAME_MAX_CHARS - len(extension) - 1].rstrip(' .')}.{extension}"
        else:
            text = text[:ATTACHMENT_NAME_MAX_CHARS].rstrip(" .")
    return text or FALLBACK_NAME
