"""The bearer token's claims: which account calls, in which tenant, with which role."""

from __future__ import annotations

from hostdesk_contracts.base import Actor, Contract, Role, Tenant


class Claims(Contract):
    sub: str
    tenant: Tenant
    role: Role
    name: str | None = None
    email: str | None = None
    exp: int

    def actor(self) -> Actor:
        return Actor(account_id=self.sub, tenant=self.tenant, role=self.role, display_name=self.name, email=self.email)
