"""What a quick search asks for (H-Sphere's search by id, title or e-mail).

- ``#482913`` is a ticket number, and nothing else; ``482913`` is a number too, and its words when no ticket the
  caller may see has it.
- An e-mail address finds the tickets it requested or was copied on.
- Anything else is words: every word must be found (in the subject or a post), the last one as the start of a
  word while the caller is still typing it (no space after it). Words are letters and digits; everything else
  separates them, so no character of the text can change the query's syntax.

Results of words are the best of the most recent matches: the newest ``RANKED_AMONG`` matching tickets are
ranked (subject words first, then posts, then how often), and the best ``limit`` of them answered. A common
word is thus answered as fast as a rare one, and a match older than the newest few hundred is found by adding a
word, or filtering the dates.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hostdesk_query.domain.model import TicketRecord

RANKED_AMONG = 200
MAX_WORDS = 8
MAX_WORD_LENGTH = 64

_NUMBER = re.compile(r"#?(\d{1,18})")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class SearchKind(StrEnum):
    NUMBER = "number"
    EMAIL = "email"
    WORDS = "words"


class NothingToSearch(ValueError):
    """The text holds no number, address or word."""


@dataclass(frozen=True, slots=True)
class Words:
    words: tuple[str, ...]
    prefix: bool  # the last word may be the start of a longer one

    def tsquery(self, weights: str = "") -> str:
        """The text of a ``to_tsquery``: every word, the last as a prefix when ``prefix``, each limited to the
        ``weights`` given (none: any)."""
        terms = []
        for place, word in enumerate(self.words, start=1):
            label = ("*" if self.prefix and place == len(self.words) else "") + weights
            terms.append(f"{word}:{label}" if label else word)
        return " & ".join(terms)

    def found_in(self, texts: Iterable[str]) -> bool:
        """Whether every word is one of the words of ``texts`` (the last, with ``prefix``, the start of one), as
        written, accents folded: the rule without the stemming the read model's database adds."""
        held = {folded(word) for text in texts for word in _WORD.findall(text.lower())}
        *whole, last = (folded(word) for word in self.words)
        return all(word in held for word in whole) and (
            any(word.startswith(last) for word in held) if self.prefix else last in held
        )


def folded(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class Search:
    kind: SearchKind
    number: int | None = None
    email: str | None = None
    words: Words | None = None  # with a number: what to search when no ticket the caller may see has it


def words_of(text: str) -> Words | None:
    found = [word.lower()[:MAX_WORD_LENGTH] for word in _WORD.findall(text)][:MAX_WORDS]
    if not found:
        return None
    return Words(tuple(found), prefix=not text[-1:].isspace())


def search_of(text: str) -> Search:
    """Raises ``NothingToSearch``."""
    stripped = text.strip()
    number = _NUMBER.fullmatch(stripped)
    if number is not None:
        # Written as ``#482913``: a number and nothing else; else its words too, when no ticket has the number.
        words = None if stripped.startswith("#") else words_of(text)
        return Search(SearchKind.NUMBER, number=int(number.group(1)), words=words)
    if _EMAIL.fullmatch(stripped):
        return Search(SearchKind.EMAIL, email=stripped)
    words = words_of(text)
    if words is None:
        raise NothingToSearch("the search holds no word, number or address")
    return Search(SearchKind.WORDS, words=words)


@dataclass(frozen=True, slots=True)
class SearchHit:
    ticket: TicketRecord
    # HTML: the text escaped, each word found in ``<mark>``; None for a hit by number or address.
    subject_html: str | None = None
    snippet_html: str | None = None  # a passage of the newest post the caller may read that holds the words


@dataclass(frozen=True, slots=True)
class SearchResult:
    kind: SearchKind
    hits: tuple[SearchHit, ...]
    more: bool  # more tickets match than these


MARK_START, MARK_END = "\x02", "\x03"  # what the database marks found words with; never kept in any text shown


def marked_html(text: str) -> str:
    """``text`` with its found words between ``MARK_START`` and ``MARK_END``, as HTML."""
    return html.escape(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
