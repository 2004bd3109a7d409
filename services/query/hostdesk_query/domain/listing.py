"""What a list of tickets may be narrowed to."""

from __future__ import annotations

from dataclasses import dataclass

from hostdesk_contracts.base import Priority, Status

from hostdesk_query.domain.model import TicketRecord


@dataclass(frozen=True, slots=True)
class AssignedTo:
    account_id: str | None  # None: tickets nobody is assigned to


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """Each condition left empty keeps every ticket; the conditions given must all hold."""

    statuses: frozenset[Status] = frozenset()
    priorities: frozenset[Priority] = frozenset()
    archived: bool | None = None
    assignee: AssignedTo | None = None


def matches(ticket_filter: TicketFilter, ticket: TicketRecord) -> bool:
    return (
        (not ticket_filter.statuses or ticket.status in ticket_filter.statuses)
        and (not ticket_filter.priorities or ticket.priority in ticket_filter.priorities)
        and (ticket_filter.archived is None or ticket.archived is ticket_filter.archived)
        and (ticket_filter.assignee is None or ticket.assignee_id == ticket_filter.assignee.account_id)
    )
