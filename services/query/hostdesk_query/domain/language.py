"""The language a ticket is written in, for its words' stemming in search: English or French, the languages of
the product.

Told from the ticket's subject and first post, once, as it opens, by counting the words each language uses most
(articles, pronouns, prepositions, greetings) and the letters only French writes; a tie, or no telling word at
all, is English. Deterministic: the same text always gets the same language, on every replica and every rebuild.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Language(StrEnum):
    EN = "en"
    FR = "fr"


def _listed(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ENGLISH = _listed(
    """
    the a an and is are was were be been not no i you we they he she it my your our this that these those to of
    in on for with from at by have has had do does did can could will would should please thanks thank hello hi
    dear regards since after before when why what which there here yes
    """
)
_FRENCH = _listed(
    """
    le la les un une des du de et est sont était pas ne je vous nous ils elle il mon ma mes votre vos notre nos
    ce cette ces que qui quoi dans sur pour avec sans chez par au aux ou mais donc depuis merci bonjour bonsoir
    cordialement svp oui non très aussi plus encore déjà toujours faire fait peut pouvez
    """
)
_APOSTROPHES = "'\u2019"
_WORD = re.compile(rf"[^\W\d_]+(?:[{_APOSTROPHES}][^\W\d_]+)?", re.UNICODE)
_FRENCH_LETTERS = re.compile(r"[éèêëàâçîïôûùœ]")
_ELISION = re.compile(rf"^(?:l|d|j|qu|n|s|c|m|t)[{_APOSTROPHES}]", re.IGNORECASE)  # l'hébergement, d'un, j'ai, qu'il


def language_of(*texts: str) -> Language:
    english = french = 0
    for text in texts:
        for match in _WORD.finditer(text.lower()):
            word = match.group()
            if _ELISION.match(word):
                french += 1
                continue
            english += word in _ENGLISH
            french += word in _FRENCH
        french += len(_FRENCH_LETTERS.findall(text.lower())) // 2
    return Language.FR if french > english else Language.EN
