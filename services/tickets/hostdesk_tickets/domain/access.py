"""Who may act on a ticket, and for which side.

For now a ticket's handling organisation is its tenant: staff of the tenant handle it, its requester requests.
The account hierarchy (resellers, subaccounts, handling organisations) refines this later.
"""

from __future__ import annotations

from hostdesk_contracts.base import Actor, Role, Side


def side_of(actor: Actor, *, tenant: str, requester_id: str) -> Side | None:
    """The side ``actor`` speaks for on the ticket, or None when the ticket is not theirs to see."""
    if actor.tenant != tenant:
        return None
    if actor.account_id == requester_id:
        return Side.REQUESTER
    if actor.role.is_staff or actor.role is Role.SYSTEM:
        return Side.HANDLER
    return None
