"""An inbound e-mail's raw bytes, read before it is parsed: where its header block ends, how deep its parts nest and
how many there are, and its identity. Pure rules.

The nesting is counted line by line, without recursion, as the standard library's parser will read the message
(each part's headers by that same parser, boundaries and default types by its rules), and the count stops at the
first level past the limit: a message nested 5,000 deep costs a glance, never a deep stack.

A message's identity is the SHA-256 of its bytes less what relays and mailboxes add on the way: trace fields of the
top header block (``TRACE_FIELDS``, ``X-Spam-*``, ``X-Virus-*``, the ``From `` line of an mbox), with line ends
made CRLF and white space at the very end trimmed. The same message delivered twice, fetched by IMAP and by POP3,
or relayed through one more hop has one identity; two messages that share a Message-ID but not their bytes do not.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

TRACE_FIELDS = frozenset(
    {
        "received",
        "return-path",
        "delivered-to",
        "x-original-to",
        "envelope-to",
        "x-envelope-to",
        "x-received",
        "authentication-results",
        "arc-authentication-results",
        "arc-message-signature",
        "arc-seal",
        "received-spf",
        "status",
        "x-status",
        "x-keywords",
        "x-uid",
        "content-length",
        "lines",
    }
)
TRACE_PREFIXES = (b"x-spam-", b"x-virus-")
# A header line as the parser takes one: an mbox "From " line, a field name and its colon, or a folded line.
_HEADER_LINE = re.compile(rb"From |[!-9;-~]*:|[ \t]")
_FIELD = re.compile(rb"[!-9;-~]+:")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r\n|\r|\n")
_TRAILING_SPACE = b" \t\r\n"


def has_header_block(raw: bytes) -> bool:
    """Whether ``raw`` opens with a header field (after an mbox ``From `` line, if any)."""
    first, _, rest = raw.partition(b"\n")
    if first.startswith(b"From ") and not _FIELD.match(first):
        first = rest.partition(b"\n")[0]
    return _FIELD.match(first) is not None


def header_block_size(raw: bytes, *, max_bytes: int) -> int | None:
    """The length of the header block: up to the first line that is not a header line, as the parser reads it
    (the blank line that ends it, as a rule); ``None`` when it is longer than ``max_bytes``."""
    start = 0
    for line_end in _LINE_END.finditer(raw, 0, max_bytes + 2):
        if not _HEADER_LINE.match(raw, start, line_end.start()):
            return start
        start = line_end.end()
    last = raw[start : max_bytes + 2]  # the line that runs to the end of the message, or past the limit
    size = start + len(last) if _HEADER_LINE.match(last) else start
    return size if size <= max_bytes else None


def header_holds_nul(raw: bytes, *, max_bytes: int) -> bool:
    """Whether a NUL byte lies in the header block as RFC 5322 draws it: up to the first blank line (or
    ``max_bytes``), even where the parser would end it sooner, at a line that is no header field."""
    blank = _BLANK_LINE.search(raw, 0, max_bytes + 4)
    return b"\x00" in raw[: blank.start() if blank is not None else max_bytes]


@dataclass(frozen=True)
class Shape:
    """How deep a message's parts nest (multiparts and enclosed messages) and how many parts it has in all,
    counted up to the first past a limit."""

    depth: int
    parts: int


@dataclass
class _Open:
    boundary: bytes | None  # None: an enclosed message, which ends where the part holding it ends
    digest: bool  # a multipart/digest, whose parts are messages unless they say otherwise


def shape_of(raw: bytes, *, max_depth: int, max_parts: int) -> Shape:
    """The shape of the message ``raw``, read line by line."""
    opened: list[_Open] = []
    depth = parts = 0
    fields: list[bytes] | None = []  # the headers of the part being read; None in a body
    for line in raw.splitlines():
        delimited = _delimited(line, opened)
        if delimited is not None:
            index, closing = delimited
            del opened[index if closing else index + 1 :]
            fields = None if closing else []
            parts += 0 if closing else 1
        elif fields is not None and _HEADER_LINE.match(line):
            fields.append(line)
            continue
        elif fields is not None:
            in_digest = bool(opened) and opened[-1].digest and opened[-1].boundary is not None
            opening = _enclosing(fields, in_digest=in_digest)
            fields = None
            if opening is not None:
                opened.append(opening)
                depth = max(depth, len(opened))
                if opening.boundary is None:  # an enclosed message: its own headers follow
                    parts += 1
                    # unless a body line came where the blank line was due: the parser reads that line again as
                    # the enclosed message's first, which has no headers then, so is plain text
                    fields = [] if line == b"" else None
        if depth > max_depth or parts > max_parts:
            break
    return Shape(depth=depth, parts=parts)


def _delimited(line: bytes, opened: list[_Open]) -> tuple[int, bool] | None:
    """``(index of the open multipart, whether it closes)`` when ``line`` is one of its boundaries."""
    if not line.startswith(b"--") or not opened:
        return None
    mark = line[2:].rstrip(b" \t")
    for index in range(len(opened) - 1, -1, -1):
        boundary = opened[index].boundary
        if boundary is not None and mark.startswith(boundary):
            rest = mark[len(boundary) :]
            if rest in (b"", b"--"):
                return index, rest == b"--"
    return None


def _enclosing(fields: list[bytes], *, in_digest: bool) -> _Open | None:
    """What the part with these header lines opens: a multipart with a boundary, an enclosed message, or nothing."""
    headers: Message = BytesHeaderParser(policy=compat32).parsebytes(b"\n".join(fields) + b"\n\n")
    if in_digest:
        headers.set_default_type("message/rfc822")
    media_type = headers.get_content_type()
    if media_type.startswith("multipart/"):
        boundary = headers.get_boundary()
        if boundary is None:
            return None
        try:
            return _Open(boundary=boundary.encode("ascii", "surrogateescape"), digest=media_type == "multipart/digest")
        except UnicodeEncodeError:  # a boundary no line of the message can spell
            return None
    if media_type.startswith("message/") and media_type != "message/delivery-status":
        return _Open(boundary=None, digest=False)
    return None


def identity_of(raw: bytes) -> str:
    """The SHA-256 (hexadecimal) of ``raw`` without its trace fields, line ends as CRLF, end trimmed."""
    text = _LINE_END.sub(b"\r\n", raw)
    end = text.find(b"\r\n\r\n")
    head, body = (text, b"") if end < 0 else (text[: end + 2], text[end + 2 :])
    kept = b"".join(field for field in _fields(head) if not _is_trace(field))
    return hashlib.sha256((kept + body).rstrip(_TRAILING_SPACE)).hexdigest()


def _fields(head: bytes) -> list[bytes]:
    """The header fields of ``head`` (CRLF line ends), each with its folded lines."""
    fields: list[bytes] = []
    for line in head.splitlines(keepends=True):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def _is_trace(field: bytes) -> bool:
    if field.startswith(b"From ") and not _FIELD.match(field):
        return True  # the envelope line an mbox store writes above the message
    name = field.partition(b":")[0].strip().lower()
    return name.decode("ascii", "replace") in TRACE_FIELDS or name.startswith(TRACE_PREFIXES)


_RETURN_PATH = re.compile(rb"^return-path:[ \t]*<?([^>\r\n]*)>?[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


def return_path_of(raw: bytes, *, max_bytes: int = 64 * 1024) -> str | None:
    """The envelope sender a delivery agent wrote atop a message it put in a mailbox (``Return-Path: <a@b>``; ``""``
    for the null sender of a bounce); ``None`` when the top header block has none."""
    size = header_block_size(raw, max_bytes=max_bytes)
    match = _RETURN_PATH.search(raw, 0, size if size is not None else max_bytes)
    if match is None:
        return None
    return match[1].strip().decode("utf-8", "replace")
