"""The text of an inbound e-mail: bytes in whatever charset a mail client chose (or claimed), RFC 2047 encoded
words in headers, and HTML turned into plain text a support agent can read. Pure rules.

A part's bytes are decoded with the charset it declares; when none is declared, or the declared one is unknown or
does not fit the bytes (a client that says UTF-8 and writes Windows-1252), with UTF-8, then Windows-1252, and last
with replacement characters: text is never refused for its encoding. Header bytes that are raw 8-bit (no encoded
words) are read the same way. HTML is read by Beautiful Soup with the standard library's parser: scripts, styles
and the head are dropped, block elements end lines, and a link keeps its target as "text (url)".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from email.errors import HeaderParseError
from email.header import Header, decode_header

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString, PageElement, PreformattedString

FALLBACKS = ("utf-8", "cp1252")
# What a header or part says when it names no real charset: read as undeclared.
_UNDECLARED = {"", "unknown-8bit", "x-unknown", "unknown", "us-ascii", "ascii", "default"}
_DROPPED_TAGS = ["script", "style", "head", "title", "noscript", "template", "iframe", "object", "svg"]
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "caption",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
    }
)
_SHOWN_SCHEMES = ("http://", "https://", "mailto:")  # a javascript: or data: target is never shown
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what text never keeps: controls but tab and newline
_BLANK_RUNS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\r\n\f]+")


def decoded(data: bytes, charset: str | None) -> str:
    """``data`` as text: in its declared ``charset`` when that fits, else UTF-8, else Windows-1252, else the declared
    charset (or UTF-8) with replacement characters."""
    declared = (charset or "").strip().lower()
    tried = FALLBACKS if declared in _UNDECLARED else (declared, *FALLBACKS)
    for name in tried:
        try:
            return data.decode(name)
        except (LookupError, UnicodeError, ValueError):  # an unknown name, or bytes that do not fit it
            continue
    try:
        return data.decode(declared, errors="replace")
    except (LookupError, UnicodeError, ValueError):
        return data.decode("utf-8", errors="replace")


def header_text(value: str | Header | None) -> str:
    """A header's value as text: raw 8-bit bytes read as UTF-8 or Windows-1252, RFC 2047 encoded words decoded in
    their charsets (leniently), controls dropped. ``""`` for ``None``."""
    if value is None:
        return ""
    text = raw_header_text(value)
    try:
        pieces = decode_header(text)
    except (HeaderParseError, ValueError, IndexError):  # a malformed encoded word: kept as written
        return _without_controls(text)
    words = [piece if isinstance(piece, str) else decoded(piece, charset) for piece, charset in pieces]
    return _without_controls("".join(words))


def raw_header_text(value: str | Header | None) -> str:
    """The header as the sender wrote it, encoded words kept: the parser keeps raw 8-bit bytes as surrogate
    escapes (or, for some headers, as a ``Header`` of unknown 8-bit chunks), read as UTF-8 or Windows-1252 here."""
    if value is None:
        return ""
    if isinstance(value, Header):
        chunks = decode_header(value)  # of a Header: its chunks as bytes, as they came
        raw = b"".join(c if isinstance(c, bytes) else c.encode("utf-8", "surrogateescape") for c, _ in chunks)
        return decoded(raw, None)
    return unescaped_text(value)


def unescaped_text(text: str) -> str:
    """``text`` with any surrogate-escaped raw bytes read as UTF-8 or Windows-1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decoded(text.encode("utf-8", "surrogateescape"), None)


def _without_controls(text: str) -> str:
    return _CONTROLS.sub(" ", text).replace("\t", " ")


def tidy(text: str) -> str:
    """Plain text as a post keeps it: lines ending in ``\\n``, controls (but tab) dropped, trailing spaces trimmed,
    no more than one blank line in a row, no blank lines at either end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", unicodedata.normalize("NFC", text))
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")


def html_text(html: str) -> str:
    """What a reader of the HTML sees, as plain text: no script, style or head; a line per block element and per
    ``<br>``; a list item as "- item"; a link as "text (url)" when its target is a web or mail address that its
    text does not already show.

    The parsed tree is read, never changed, walked with a list of its own: time linear in the markup however
    long or deep it is (changing a tree in place costs a scan of a node's siblings at every change)."""
    soup = BeautifulSoup(html, "html.parser")
    pieces: list[str] = []
    walk: list[tuple[Tag, Iterator[PageElement], int]] = [(soup, iter(soup.contents), 0)]
    in_pre = 0
    while walk:
        tag, children, start = walk[-1]
        child = next(children, None)
        if child is None:
            walk.pop()
            pieces.extend(_closing(tag, pieces[start:] if tag.name == "a" else []))
            in_pre -= tag.name == "pre"
        elif isinstance(child, Tag) and child.name not in _DROPPED_TAGS:
            pieces.extend(_opening(child))
            in_pre += child.name == "pre"
            walk.append((child, iter(child.contents), len(pieces)))
        elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
            pieces.append(str(child) if in_pre else _SPACES.sub(" ", child))  # as a browser shows text
    lines = (" ".join(line.replace("\xa0", " ").split()) for line in "".join(pieces).split("\n"))
    return tidy("\n".join(lines))


def _opening(tag: Tag) -> tuple[str, ...]:
    if tag.name == "br":
        return ("\n",)
    if tag.name == "li":
        return ("\n- ",)
    return ("\n",) if tag.name in _BLOCK_TAGS else ()


def _closing(tag: Tag, held: list[str]) -> tuple[str, ...]:
    """What follows the end of ``tag``; ``held``: the text a link holds."""
    if tag.name == "a":
        shown = "".join(held)
        target = _shown_target(tag, shown)
        if target:
            return (f" ({target})",) if shown.strip() else (target,)
    if tag.name in ("td", "th"):
        return (" ",)
    return ("\n",) if tag.name in _BLOCK_TAGS and tag.name != "li" else ()


def _shown_target(link: Tag, shown: str) -> str | None:
    href = link.get("href")
    if not isinstance(href, str):
        return None
    target = href.strip()
    if not target.lower().startswith(_SHOWN_SCHEMES):
        return None
    shown = " ".join(shown.split())
    bare = target[len("mailto:") :] if target.lower().startswith("mailto:") else target
    return None if bare.rstrip("/") == shown.rstrip("/") else target
