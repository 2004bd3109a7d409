"""The staff home (H-Sphere's TT administration panel): the highest priority tickets assigned to the caller, the
newest tickets nobody is assigned to, and the counts of the tickets not archived, each within the caller's reach
(its organisation, and its departments when its organisation limits staff to theirs).

Decided: a ticket resolved or closed is no one's work any more, so neither list holds it; the counts hold every
ticket not archived, resolved ones included (they still await the customer's word).
"""

from __future__ import annotations

from hostdesk_contracts.base import Status

from hostdesk_query.domain.listing import AssignedTo, TicketFilter

IN_WORK = frozenset(Status) - {Status.RESOLVED, Status.CLOSED}
NOT_ARCHIVED = TicketFilter(archived=False)
UNASSIGNED = TicketFilter(statuses=IN_WORK, archived=False, assignee=AssignedTo(None))


def assigned_to(account_id: str) -> TicketFilter:
    return TicketFilter(statuses=IN_WORK, archived=False, assignee=AssignedTo(account_id))
