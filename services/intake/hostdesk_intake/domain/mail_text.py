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
from email.errors import HeaderParseError
from email.header import Header, decode_header

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString

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
    text does not already show."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROPPED_TAGS):
        if isinstance(tag, Tag) and not tag.decomposed:
            tag.decompose()
    _collapse_spaces(soup)
    for tag in soup.find_all(True):
        if isinstance(tag, Tag):
            _mark_layout(tag)
    text = soup.get_text()
    lines = (" ".join(line.replace("\xa0", " ").split()) for line in text.split("\n"))
    return tidy("\n".join(lines))


def _collapse_spaces(soup: BeautifulSoup) -> None:
    """Runs of white space in the markup's text read as one space, as a browser shows them (but in ``<pre>``)."""
    for string in soup.find_all(string=True):
        if isinstance(string, NavigableString) and string.find_parent("pre") is None:
            collapsed = re.sub(r"[ \t\r\n\f]+", " ", str(string))
            if collapsed != string:
                string.replace_with(collapsed)


def _mark_layout(tag: Tag) -> None:
    if tag.name == "br":
        tag.replace_with("\n")
    elif tag.name == "a":
        target = _shown_target(tag)
        if target:
            tag.append(f" ({target})" if tag.get_text().strip() else target)
    elif tag.name == "li":
        tag.insert_before("\n- ")
    elif tag.name == "td" or tag.name == "th":
        tag.insert_after(" ")
    elif tag.name in _BLOCK_TAGS:
        tag.insert_before("\n")
        tag.insert_after("\n")


def _shown_target(link: Tag) -> str | None:
    href = link.get("href")
    if not isinstance(href, str):
        return None
    target = href.strip()
    if not target.lower().startswith(_SHOWN_SCHEMES):
        return None
    shown = " ".join(link.get_text().split())
    bare = target[len("mailto:") :] if target.lower().startswith("mailto:") else target
    return None if bare.rstrip("/") == shown.rstrip("/") else target
