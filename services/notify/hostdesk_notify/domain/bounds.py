"""How much mail notify sends to the requesting side of tickets in an hour, and what it holds back past that.

Two bounds over a sliding hour, counted from the mail notify queued (what it held back does not count):
- ``per_ticket`` = 60 mails to the requesting side of one ticket. A staff reply to a ticket with its requester and
  the 20 CC recipients staff may set is 21 mails, so a busy ticket's answer, resolution and close all go out;
  a ticket whose mail keeps flowing past that is a loop or an abuse, not a conversation.
- ``per_requester`` = 300 mails to the requesting side of all one requester's tickets: a reseller with a busy
  hour of a hundred answered tickets to itself and two colleagues each.
Mail to the handling side (a new ticket, a customer's reply) is neither counted nor held back: it goes to the
organisation's own staff or account, and the tickets service bounds how fast a requester posts.

A mail over a bound is kept in the outbox as ``suppressed``, with its reason, and is never sent; the requester's
own address comes before the CC recipients, so it is the last to be held back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from hostdesk_notify.domain.mail import OutgoingMail


@dataclass(frozen=True)
class MailBounds:
    per_ticket: int = 60
    per_requester: int = 300
    window: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class RecentMail:
    """Mail queued to the requesting side within the window: of this ticket, and of all its requester's tickets."""

    ticket: int
    requester: int


@dataclass(frozen=True)
class Suppressed:
    mail: OutgoingMail
    reason: str


def counts_against_bounds(mail: OutgoingMail) -> bool:
    return not mail.kind.to_handling_side


def within_bounds(
    mails: Sequence[OutgoingMail], *, recent: RecentMail, bounds: MailBounds
) -> tuple[list[OutgoingMail], list[Suppressed]]:
    """The mails to send and those held back, in the order planned, given what was queued in the window."""
    hours = bounds.window / timedelta(hours=1)
    window = "an hour" if hours == 1 else f"{hours:g} hours"
    ticket, requester = recent.ticket, recent.requester
    sent: list[OutgoingMail] = []
    held: list[Suppressed] = []
    for mail in mails:
        if not counts_against_bounds(mail):
            sent.append(mail)
        elif ticket >= bounds.per_ticket:
            held.append(Suppressed(mail, f"{bounds.per_ticket} mails about this ticket in {window} already"))
        elif mail.requester_id is not None and requester >= bounds.per_requester:
            held.append(
                Suppressed(mail, f"{bounds.per_requester} mails about this requester's tickets in {window} already")
            )
        else:
            sent.append(mail)
            ticket, requester = ticket + 1, requester + 1
    return sent, held
