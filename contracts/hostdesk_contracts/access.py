"""Who sees a ticket, and for which side: one rule for every service (SPEC section 1).

- A ticket's requesting side is its requester account.
- Its handling side is the organisation it is addressed to: that account itself (a provider, a reseller, or a
  customer answering its subaccounts) and that organisation's staff. Staff may be limited to the tickets of
  their departments (an organisation's setting, for agents; a ticket in no department is seen by all of its
  staff, so that nothing unrouted is missed).
- Nobody else: a provider's staff do not read a reseller's conversation with its customer, another customer of
  the same reseller sees nothing. The product itself (closing a ticket left unanswered) acts for the handling side.
- A ticket opened before the directory has no handling organisation: its tenant's provider handles it.

A caller who may not see a ticket is told it does not exist (404), never that it is forbidden.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from hostdesk_contracts.base import Actor, Role, Side
from hostdesk_contracts.directory import Configuration, StaffRecord

HANDLING_ROLES = frozenset({Role.PROVIDER, Role.RESELLER, Role.CUSTOMER})


@dataclass(frozen=True, slots=True)
class Reach:
    """What a caller may see: the tickets it requested, and those addressed to the organisation it handles for
    (``handles``, None for a subaccount), limited to ``departments`` when not None."""

    tenant: str
    account_id: str
    handles: str | None
    departments: frozenset[str] | None = None
    everything: bool = False  # the product itself, in its tenant

    def side(
        self, *, tenant: str, requester_id: str, handling_organisation_id: str | None, department: str | None
    ) -> Side | None:
        """The side the caller speaks for on a ticket so addressed, or None when it may not see it."""
        if tenant != self.tenant:
            return None
        if self.everything:
            return Side.HANDLER
        if requester_id == self.account_id:
            return Side.REQUESTER
        handler = handling_organisation_id or tenant
        if self.handles is None or handler != self.handles:
            return None
        if self.departments is not None and department is not None and department not in self.departments:
            return None
        return Side.HANDLER


def reach_of(actor: Actor, *, departments: Collection[str] | None = None) -> Reach:
    """The reach of ``actor``; ``departments`` limits staff to those (their own, when their organisation says so)."""
    if actor.role is Role.SYSTEM:
        return Reach(tenant=actor.tenant, account_id=actor.account_id, handles=None, everything=True)
    if actor.role.is_staff:
        limited = frozenset(departments) if departments is not None else None
        return Reach(
            tenant=actor.tenant,
            account_id=actor.account_id,
            handles=actor.organisation_id or actor.tenant,
            departments=limited,
        )
    handles = actor.account_id if actor.role in HANDLING_ROLES else None
    return Reach(tenant=actor.tenant, account_id=actor.account_id, handles=handles)


def side_of(
    actor: Actor,
    *,
    tenant: str,
    requester_id: str,
    handling_organisation_id: str | None = None,
    department: str | None = None,
    departments: Collection[str] | None = None,
) -> Side | None:
    """``reach_of(actor).side(...)`` in one call."""
    return reach_of(actor, departments=departments).side(
        tenant=tenant,
        requester_id=requester_id,
        handling_organisation_id=handling_organisation_id,
        department=department,
    )


def departments_limit(
    actor: Actor, staff: StaffRecord | None, configuration: Configuration | None
) -> frozenset[str] | None:
    """The departments ``actor`` is limited to (``reach_of``'s ``departments``): an agent's own when its
    organisation's configuration says ``staff_see_own_departments_only``; None, no limit, for everyone else
    (supervisors, accounts, staff of an organisation that does not say so)."""
    if actor.role is not Role.AGENT or staff is None or configuration is None:
        return None
    if not configuration.staff_see_own_departments_only:
        return None
    return frozenset(staff.departments)
