"""Who a directory command's actor is, as the directory knows it, and what it may change (rules in ``directory``).

The actor is looked up in the directory, never taken on its word: a token naming a reseller is a reseller only
if the directory holds that reseller, in that tenant, not disabled. The one actor the directory may not know yet
is a provider founding its own tenant (the operator's command line putting the provider's own account first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hostdesk_contracts.base import Role
from hostdesk_contracts.directory import AccountKind, DirectoryCommand, PutAccount, StaffRole

from hostdesk_tickets.domain.directory_records import Account, ApiKey, OrganisationConfiguration, Staff, SupportAddress
from hostdesk_tickets.domain.errors import RecordNotFound

MAX_DEPTH = 4  # provider, reseller, customer, subaccount


class Directory(Protocol):
    """The records a decision reads, as the store holds them now (None: no such record)."""

    def principal(self, principal_id: str) -> Account | Staff | None: ...

    def configuration(self, organisation_id: str) -> OrganisationConfiguration | None: ...

    def api_key(self, key_id: str) -> ApiKey | None: ...

    def support_address(self, address: str) -> SupportAddress | None: ...


def lineage(directory: Directory, account: Account) -> list[str]:
    """The ids of ``account``'s ancestors, its parent first (walked here: records carry their parent only)."""
    ancestors: list[str] = []
    parent_id = account.parent_id
    while parent_id is not None and len(ancestors) < MAX_DEPTH:
        ancestors.append(parent_id)
        parent = directory.principal(parent_id)
        parent_id = parent.parent_id if isinstance(parent, Account) else None
    return ancestors


@dataclass(frozen=True, slots=True)
class Authority:
    """The actor as the directory knows it: its tenant, its id, its role and, for staff, its organisation."""

    tenant: str
    account_id: str
    role: Role
    organisation_id: str | None = None

    @property
    def supervises_the_provider(self) -> bool:
        return self.role is Role.SUPERVISOR and self.organisation_id == self.tenant

    def may_put_account(self, account_id: str, ancestors: Sequence[str]) -> bool:
        """Whether it may put the account ``account_id`` placed below ``ancestors`` (parent first)."""
        if self.role is Role.PROVIDER:
            return True
        if self.supervises_the_provider:
            return account_id != self.tenant
        if self.role in (Role.RESELLER, Role.CUSTOMER):
            return self.account_id in ancestors
        return False

    def may_put_staff(self, organisation_id: str) -> bool:
        return self.role is Role.PROVIDER or self._speaks_for(organisation_id, Role.RESELLER)

    def may_configure(self, organisation_id: str) -> bool:
        return self.role is Role.PROVIDER or self._speaks_for(organisation_id, Role.RESELLER, Role.CUSTOMER)

    def may_put_api_key(self, account_id: str, ancestors: Sequence[str]) -> bool:
        if self.role is Role.PROVIDER:
            return True
        return self.role is Role.RESELLER and (account_id == self.account_id or self.account_id in ancestors)

    def _speaks_for(self, organisation_id: str, *accounts: Role) -> bool:
        """The organisation's own account (of one of the roles ``accounts``) or one of its supervisors."""
        if self.role is Role.SUPERVISOR:
            return self.organisation_id == organisation_id
        return self.role in accounts and self.account_id == organisation_id


def authority_of(directory: Directory, command: DirectoryCommand) -> Authority:
    """The actor of ``command`` as the directory knows it; ``RecordNotFound`` when it does not."""
    actor, key = command.actor, command.key
    principal = directory.principal(actor.account_id)
    if principal is None and _founds_its_tenant(command):
        return Authority(tenant=actor.tenant, account_id=actor.account_id, role=Role.PROVIDER)
    if principal is None or principal.tenant != actor.tenant or principal.disabled:
        raise RecordNotFound(key)
    if isinstance(principal, Account):
        if actor.role not in (Role.PROVIDER, Role.RESELLER, Role.CUSTOMER, Role.SUBACCOUNT):
            raise RecordNotFound(key)
        if principal.kind is not AccountKind(actor.role.value):
            raise RecordNotFound(key)
        return Authority(tenant=principal.tenant, account_id=actor.account_id, role=actor.role)
    return _staff_authority(directory, principal, actor.role, actor.organisation_id, key=key)


def _staff_authority(
    directory: Directory, staff: Staff, role: Role, claimed_organisation: str | None, *, key: str
) -> Authority:
    """Staff act as the role the directory gives them, for the organisation it names, while it is enabled."""
    if role.value != staff.role.value or claimed_organisation not in (None, staff.organisation_id):
        raise RecordNotFound(key)
    organisation = directory.principal(staff.organisation_id)
    if not isinstance(organisation, Account) or organisation.disabled:
        raise RecordNotFound(key)
    known_role = Role.SUPERVISOR if staff.role is StaffRole.SUPERVISOR else Role.AGENT
    return Authority(
        tenant=staff.tenant, account_id=staff.record_id, role=known_role, organisation_id=staff.organisation_id
    )


def _founds_its_tenant(command: DirectoryCommand) -> bool:
    """A provider putting its own account, named by its tenant: the only command of an actor yet unknown."""
    if not isinstance(command, PutAccount):
        return False
    actor, account = command.actor, command.account
    return (
        actor.role is Role.PROVIDER
        and account.kind is AccountKind.PROVIDER
        and account.id == actor.account_id == actor.tenant
    )
