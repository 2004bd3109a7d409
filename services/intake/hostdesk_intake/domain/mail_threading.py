"""Which ticket an inbound e-mail answers, as far as its own words tell: a ticket number in its subject, a
``+t<number>`` tag on the support address it was sent to, or one of the system's own Message-IDs it replies to.
Pure string work; deciding between the hints (and whether the sender may post on that ticket) is done elsewhere.

A subject names a ticket by a ``#`` directly before its number ("[#482913]", "Re: [HostDesk #482913] ..."), or by
the word "ticket" or "demande", optionally followed by ":", "n°", "no." or "#" ("Ticket 482913", "ticket n° 482913",
"demande #482913"). A bare number names none: "my VPS 1042 is down" is about a VPS.

The system's own Message-IDs are ``<ticket uuid as 32 hexadecimal digits>.<anything>@<its domain>``.
"""

from __future__ import annotations

import re
from uuid import UUID

TICKET_NUMBER_MAX_DIGITS = 12
_NUMBER = rf"(\d{{1,{TICKET_NUMBER_MAX_DIGITS}}})(?!\d)"
_TICKET_NUMBER = re.compile(
    rf"(?:(?<![&\w])#|\b(?:ticket|demande)\b\s*(?::|n°|nº|no\.?|#)?\s*#?){_NUMBER}", re.IGNORECASE
)
_OWN_MESSAGE_ID = re.compile(r"<?([0-9a-f]{32})\.[^@<>\s]+@([^@<>\s]+?)>?", re.IGNORECASE)


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


def ticket_id_in_message_id(message_id: str, *, domain: str) -> UUID | None:
    """The ticket a Message-ID of the system's own names (with or without its angle brackets), when it has the
    system's shape and ``domain`` (case aside); else ``None``."""
    own = _OWN_MESSAGE_ID.fullmatch(message_id.strip())
    if own is None or own.group(2).lower() != domain.strip().lower():
        return None
    return UUID(hex=own.group(1))
