"""Who reads what: the one rule of ``hostdesk_contracts.access``, applied to the read model's records.

A caller's ``Reach`` says which tickets it sees and for which side, ticket by ticket: a reseller account reads the
tickets it requested from its provider as their requester, and its customers' tickets as their handler. Only the
handling side of a ticket reads its internal notes and its own fields (assignee, tags); only the handling side
filters on its own fields (assignee, tags), so a list filtered on them holds the tickets the caller handles and
none it requested.
A post's files are seen by whoever sees the post: an internal note's files are the handling side's only.
"""

from __future__ import annotations

from collections.abc import Iterable

from hostdesk_contracts.access import Reach
from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Side, Visibility

from hostdesk_query.domain.listing import TicketFilter, matches
from hostdesk_query.domain.model import TicketRecord, TimelineEntry


def side_on(reach: Reach, ticket: TicketRecord) -> Side | None:
    """The side the caller reads ``ticket`` for, or None when it may not read it."""
    return reach.side(
        tenant=ticket.tenant,
        requester_id=ticket.requester_id,
        handling_organisation_id=ticket.handling_organisation_id,
        department=ticket.department,
    )


def handles(reach: Reach, ticket: TicketRecord) -> bool:
    return side_on(reach, ticket) is Side.HANDLER


def listed(reach: Reach, ticket_filter: TicketFilter, ticket: TicketRecord) -> bool:
    """Whether a list of ``reach`` narrowed by ``ticket_filter`` holds ``ticket``."""
    side = side_on(reach, ticket)
    if side is None or (ticket_filter.handled_only and side is not Side.HANDLER):
        return False
    return matches(ticket_filter, ticket)


def shows(side: Side, entry: TimelineEntry) -> bool:
    """Whether the reader of a ticket for ``side`` sees ``entry`` of its timeline."""
    return side is Side.HANDLER or entry.visibility is not Visibility.INTERNAL


def file_shown(side: Side, entries: Iterable[TimelineEntry], attachment_id: str) -> Attachment | None:
    """The file ``attachment_id`` of a post among ``entries`` that the reader for ``side`` sees, or None."""
    for entry in entries:
        if shows(side, entry):
            for attachment in entry.attachments:
                if attachment.id == attachment_id:
                    return attachment
    return None
