"""Who reads what. Staff read every ticket of their tenant; any other account reads only the tickets it
requested. The requesting side never reads internal notes."""

from __future__ import annotations

from dataclasses import dataclass

from hostdesk_contracts.base import Actor, Visibility

from hostdesk_query.domain.model import TicketRecord, TimelineEntry


@dataclass(frozen=True, slots=True)
class ReadScope:
    tenant: str
    requester_id: str | None  # None: every ticket of the tenant
    sees_internal: bool


def scope_of(actor: Actor) -> ReadScope:
    if actor.role.is_staff:
        return ReadScope(tenant=actor.tenant, requester_id=None, sees_internal=True)
    return ReadScope(tenant=actor.tenant, requester_id=actor.account_id, sees_internal=False)


def may_read(scope: ReadScope, ticket: TicketRecord) -> bool:
    if ticket.tenant != scope.tenant:
        return False
    return scope.requester_id is None or ticket.requester_id == scope.requester_id


def shows(scope: ReadScope, entry: TimelineEntry) -> bool:
    return scope.sees_internal or entry.visibility is not Visibility.INTERNAL
