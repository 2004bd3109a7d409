"""Which ticket an inbound e-mail answers, as far as its own words tell: a ticket number in its subject, a
``+t<number>`` tag on the support address it was sent to, or one of the system's own Message-IDs it replies to.
Pure string work; deciding between the hints (and whether the sender may post on that ticket) is done elsewhere.

A subject names a ticket by a ``#`` directly before its number ("[#482913]", "Re: [HostDesk #482913] ..."), or by
the word "ticket" or "demande", optionally followed by ":", "n°", "no." or "#" ("Ticket 482913", "ticket n° 482913",
"demande #482913"). A bare number names none: "my VPS 1042 is down" is about a VPS.

The product's own mail refers to its ticket's thread id, ``<ticket-<uuid>@domain>`` (notify's ``thread_id_for``), in
its ``In-Reply-To`` and ``References``, which a mail client keeps in a reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from uuid import UUID

TICKET_NUMBER_MAX_DIGITS = 12
_NUMBER = rf"(\d{{1,{TICKET_NUMBER_MAX_DIGITS}}})(?!\d)"
_TICKET_NUMBER = re.compile(
    rf"(?:(?<![&\w])#|\b(?:ticket|demande)\b\s*(?::|n°|nº|no\.?|#)?\s*#?){_NUMBER}", re.IGNORECASE
)
_THREAD_ID = re.compile(r"ticket-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@", re.IGNORECASE)


def ticket_numbers_in(subject: str) -> tuple[int, ...]:
    """The ticket numbers ``subject`` names, in order of appearance, each once."""
    numbers = (int(match.group(1)) for match in _TICKET_NUMBER.finditer(subject))
    return tuple(dict.fromkeys(numbers))


def plus_ticket_number(address: str, support_address: str) -> int | None:
    """The number in a ``+t<number>`` tag on ``support_address`` ("support+t482913@example.com" against
    "support@example.com"), case aside; ``None`` when ``address`` is not that support address with such a tag."""
    local, at, domain = address.strip().lower().rpartition("@")
    support_local, support_at, support_domain = support_address.strip().lower().rpartition("@")
    if not (at and support_at and support_local) or domain != support_domain:
        return None
    tagged = re.fullmatch(rf"{re.escape(support_local)}\+t{_NUMBER}", local)
    return int(tagged.group(1)) if tagged else None


def thread_ticket_ids(message_ids: Iterable[str]) -> tuple[UUID, ...]:
    """The tickets whose thread ids are among ``message_ids`` (with or without angle brackets), in order, once each."""
    found = (_THREAD_ID.match(message_id.strip().strip("<>")) for message_id in message_ids)
    return tuple(dict.fromkeys(UUID(match.group(1)) for match in found if match))
