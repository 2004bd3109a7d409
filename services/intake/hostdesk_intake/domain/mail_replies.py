"""A reply trimmed to what its writer wrote: the message it quotes and the writer's signature cut away. Pure rules.

The text is cut at the first line that opens a quoted message:

- "On <date>, <name> wrote:" (Gmail, Apple Mail, Thunderbird) or "Le <date>, <name> a écrit :" (the same clients
  in French, often with a no-break space before the colon), on one line or wrapped over two;
- "-----Original Message-----" (Outlook), "----- Message d'origine -----", "-------- Message original --------";
- an Outlook header block: "From:" or "De :" followed by "Sent:", "Date :", "Envoyé :", "To:", "À :", "Subject:"
  or "Objet :", with the line of underscores Outlook draws above it;
- the run of "> " quoted lines that ends the text.

What is left is cut at its last signature delimiter, "-- " (RFC 3676, and "--" as clients that trim trailing
spaces send it), and loses a last line "Sent from my ..." or "Envoyé de mon ...". When nothing is left (a writer
who answered below the quote), the reply is the whole text.

The libraries published for this read English only, miss French clients' "a écrit :" or signatures, or cut a
writer's "- item" lists as signatures and take quadratic time over one long line; these few rules read a line at a
time with anchored patterns on lines of bounded length, so a hostile text costs time linear in its length.
"""

from __future__ import annotations

import re

HEADER_LINE_MAX_CHARS = 400  # a longer line is the writer's text, never a client's "wrote:" line
_WROTE = re.compile(r"(?:On\s.{1,300}\swrote|Le\s.{1,300}\sa\s+écrit)\s*:", re.IGNORECASE)
_ORIGINAL = re.compile(
    r"-{2,}\s*(?:Original Message|Message d['\u2019]origine|Message original)\s*-{2,}", re.IGNORECASE
)
_FROM_FIELD = re.compile(r"\*?(?:From|De)\s*:\*?\s*\S", re.IGNORECASE)
_NEXT_FIELD = re.compile(r"\*?(?:Sent|Date|Envoyé|To|À|A|Subject|Objet|Cc)\s*:", re.IGNORECASE)
_RULE = re.compile(r"[_-]{10,}")
_SIGNATURE = re.compile(r"--\s?")
_SENT_FROM = re.compile(r"(?:Sent from my|Get Outlook for|Envoyé de mon|Envoyé depuis mon)\s.{0,80}", re.IGNORECASE)


def trimmed_reply(text: str) -> str:
    """``text`` without the quoted message and signature below the writer's words; ``text`` when nothing is left."""
    lines = text.split("\n")
    end = _quote_opening(lines)
    end = _quoted_tail(lines, end)
    end = _signature(lines, end)
    end = _sent_from(lines, end)
    reply = "\n".join(lines[:end]).strip()
    return reply or text


def _quote_opening(lines: list[str]) -> int:
    """The index of the first line that opens a quoted message, else ``len(lines)``."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or len(stripped) > HEADER_LINE_MAX_CHARS:
            continue
        if _ORIGINAL.fullmatch(stripped) or _wrote_line(lines, index):
            return index
        if _outlook_fields(lines, index):
            return _rule_above(lines, index)
    return len(lines)


def _wrote_line(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if _WROTE.fullmatch(line):
        return True
    if index + 1 < len(lines) and line[:2].lower() in ("on", "le"):
        joined = f"{line} {lines[index + 1].strip()}"  # the line a client wrapped
        return len(joined) <= HEADER_LINE_MAX_CHARS and _WROTE.fullmatch(joined) is not None
    return False


def _outlook_fields(lines: list[str], index: int) -> bool:
    following = lines[index + 1].strip() if index + 1 < len(lines) else ""
    return _FROM_FIELD.match(lines[index].strip()) is not None and _NEXT_FIELD.match(following) is not None


def _rule_above(lines: list[str], index: int) -> int:
    above = index - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    return above if above >= 0 and _RULE.fullmatch(lines[above].strip()) else index


def _quoted_tail(lines: list[str], end: int) -> int:
    """Where the run of quoted lines (and blank lines) ending ``lines[:end]`` starts; ``end`` when there is none."""
    start = end
    while start > 0 and (not lines[start - 1].strip() or lines[start - 1].lstrip().startswith(">")):
        start -= 1
    quoted = any(line.lstrip().startswith(">") for line in lines[start:end])
    return start if quoted else end


def _signature(lines: list[str], end: int) -> int:
    for index in range(end - 1, -1, -1):
        if _SIGNATURE.fullmatch(lines[index].rstrip("\r")):
            return index
    return end


def _sent_from(lines: list[str], end: int) -> int:
    last = end - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    return last if last >= 0 and _SENT_FROM.fullmatch(lines[last].strip()) else end
