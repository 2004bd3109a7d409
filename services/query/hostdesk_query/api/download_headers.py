"""The headers a downloaded file is served with: always saved, never rendered or run in the browser, whatever its
bytes or its name say.

A file's type is the one sniffed from its bytes when it was uploaded; a type a browser would render as a page or
run as a script (HTML, SVG, XML, JavaScript) is served as ``application/octet-stream``. ``nosniff`` keeps the
browser from guessing another type, the sandboxing policy keeps a file opened anyway from running anything or
reaching anywhere, and ``attachment`` asks for it to be saved. Its name goes into ``Content-Disposition`` twice
(RFC 6266): an ASCII fallback in quotes, without a quote, backslash, percent sign or control character, and the
name itself, percent-encoded as UTF-8 (RFC 5987), which modern browsers use.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from hostdesk_contracts.attachments import FALLBACK_NAME, Attachment

OCTET_STREAM = "application/octet-stream"
# Types a browser renders as a document or runs as a script, with their aliases; and any ``+xml`` type.
RENDERED_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "text/ecmascript",
        "text/xml",
        "application/xml",
        "text/xsl",
        "multipart/x-mixed-replace",
    }
)
# What a quoted fallback name keeps: printable ASCII but the quote and backslash (they end or escape the quoted
# string) and the percent sign (some browsers decode percent sequences even there).
_FALLBACK_KEEPS = frozenset(chr(code) for code in range(0x20, 0x7F)) - {'"', "\\", "%"}


def served_media_type(media_type: str) -> str:
    """The ``Content-Type`` a file of ``media_type`` is served with."""
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind in RENDERED_TYPES or kind.endswith("+xml"):
        return OCTET_STREAM
    return kind


def ascii_fallback(name: str) -> str:
    """``name`` in printable ASCII for browsers that do not read ``filename*``: accents dropped, every other
    character outside ``_FALLBACK_KEEPS`` an underscore."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = "".join(ch if ch in _FALLBACK_KEEPS else "_" for ch in letters).strip(" ")
    return text or FALLBACK_NAME


def content_disposition(name: str) -> str:
    encoded = quote(name, safe="")  # leaves letters, digits and ``_.-~``: every one an attr-char of RFC 5987
    return f"attachment; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"


def download_headers(attachment: Attachment) -> dict[str, str]:
    """Every header of a download but its length, which the response sets from its body."""
    return {
        "Content-Type": served_media_type(attachment.media_type),
        "Content-Disposition": content_disposition(attachment.name),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, max-age=0",
    }
