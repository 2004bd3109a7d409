"""The directory's rules: what a put of an account, a member of staff, a configuration or an API key may do.

``decide`` reads the records it needs through a ``Directory`` (the store as it is now), and answers the record's
aggregate with what the put recorded, or raises a ``DirectoryRefusal``. In this order:

1. A command already applied to the record (a redelivery) records nothing and answers the version it gave.
2. **Who.** The actor is looked up in the directory (``directory_authority``); one it does not hold, or holds
   disabled, in another tenant, or of another role, changes nothing. The one exception: a provider founding its
   tenant (``PutAccount`` of a provider whose id is the actor's id and tenant) before the directory knows it.
   - the tenant's provider (role ``provider``, its id the tenant) may put everything in its tenant;
   - a reseller: accounts below itself (its customers and their subaccounts), its own staff, its own
     configuration, API keys of itself and of the accounts below it;
   - a customer: its own subaccounts and its own configuration;
   - a supervisor: staff and the configuration of its organisation and, a supervisor of the provider, every
     account of the tenant but the provider's own;
   - agents and subaccounts change nothing.
   A record the actor may not change (outside its tenant, beside or above it) is refused as ``not_found``, as is
   one that does not exist: never a hint that it does. The actor must reach the record where it is and where the
   put places it (a moved account's new parent, a member of staff's new organisation).
3. ``expected_version``, when given, must be the record's version (``stale`` otherwise, naming it); a put of
   the record as it already is records nothing and is committed (the control panel's synchronisation is
   idempotent by content).
4. **What** (each refusal ``invalid``, naming its field):
   - accounts: a provider has no parent and its id is a tenant (``base.TENANT_PATTERN``: it becomes the
     subjects' tenant token); every other account hangs under an account of its tenant of a kind
     ``AccountKind.parent_kinds`` allows (a reseller under the provider, a customer under the provider or a
     reseller, a subaccount under a customer), not disabled when the account is new (``parent_id``). Its tenant
     is its parent's. A kind never changes (``kind``); a new parent within the tenant moves the account, and
     the event names the parent it left. Accounts and staff share one id space (``id``).
   - staff: their organisation is an account of the tenant with staff (``AccountKind.has_staff``:
     ``organisation_id``); their departments are departments of the organisation's configuration, and a retired
     department takes no new member (one the member already had it keeps: ``departments``).
   - a configuration: its organisation is an account of the tenant that handles tickets (``organisation_id``);
     the names of its departments, categories and canned responses are unique, in any case (``departments``,
     ``categories``, ``canned_responses``); a category's department is one of its departments and its assignee
     a member of the organisation's staff (``categories``); a department that existed is never removed, only
     retired, so no ticket is ever left in a department that is gone (``departments``, naming it).
   - an API key: its account is an account of the tenant (``account_id``); a key is made once, so its hash
     and its account never change (``secret_sha256``, ``account_id``), and a revoked key stays revoked
     (``revoked``).
   - a support address: its organisation is an account of the tenant that handles tickets, which the actor may
     configure (``organisation_id``), and its department one of that organisation's departments, not retired
     (``department``). An address is its first organisation's for ever: a put naming another organisation is
     refused as ``not_found`` (whoever holds it, in whatever tenant, is never told).
"""

from __future__ import annotations

from collections.abc import Iterable

from hostdesk_contracts.base import TENANT_PATTERN
from hostdesk_contracts.directory import (
    AccountKind,
    AnyDirectoryCommand,
    Configuration,
    Configure,
    DirectoryCommand,
    PutAccount,
    PutApiKey,
    PutStaff,
    PutSupportAddress,
    Record,
    StaffRecord,
)

from hostdesk_tickets.domain.directory_authority import Authority, Directory, authority_of, lineage
from hostdesk_tickets.domain.directory_records import (
    Account,
    ApiKey,
    DirectoryEntry,
    OrganisationConfiguration,
    Staff,
    SupportAddress,
)
from hostdesk_tickets.domain.errors import RecordInvalid, RecordNotFound, RecordStale


def decide(directory: Directory, command: AnyDirectoryCommand) -> DirectoryEntry:
    """The aggregate of the record ``command`` puts, with what the put recorded (nothing when it was applied
    before or changes nothing). Raises a ``DirectoryRefusal``."""
    match command:
        case PutAccount():
            return _put_account(directory, command)
        case PutStaff():
            return _put_staff(directory, command)
        case Configure():
            return _configure(directory, command)
        case PutApiKey():
            return _put_api_key(directory, command)
        case PutSupportAddress():
            return _put_support_address(directory, command)


def _changes(command: DirectoryCommand, current: DirectoryEntry | None, record: Record) -> bool:
    """Whether the put changes the record; refused when it expects another version than the record's."""
    version = None if current is None else current.version
    expected = command.expected_version
    if expected is not None and expected != version:
        said = f"is at version {version}" if version is not None else "does not exist yet"
        raise RecordStale(f"{command.key} {said}, not at version {expected}.", current_version=version)
    return current is None or not current.same_as(record)


def _invalid(detail: str, *, field: str, current: DirectoryEntry | None) -> RecordInvalid:
    return RecordInvalid(detail, field=field, current_version=None if current is None else current.version)


def _account_in(directory: Directory, authority: Authority, account_id: str) -> Account | None:
    account = directory.principal(account_id)
    return account if isinstance(account, Account) and account.tenant == authority.tenant else None


def _may_change_principal(directory: Directory, authority: Authority, current: Account | Staff, key: str) -> None:
    if current.tenant != authority.tenant:
        raise RecordNotFound(key)
    if isinstance(current, Account):
        allowed = authority.may_put_account(current.record_id, lineage(directory, current))
    else:
        allowed = authority.may_put_staff(current.organisation_id)
    if not allowed:
        raise RecordNotFound(key)


# -- accounts ----------------------------------------------------------------------------------------------


def _put_account(directory: Directory, command: PutAccount) -> DirectoryEntry:
    record = command.account
    current = directory.principal(record.id)
    if current is not None and command.command_id in current.applied:
        return current
    authority = authority_of(directory, command)
    if current is not None:
        _may_change_principal(directory, authority, current, command.key)
        if isinstance(current, Staff):
            raise _invalid(
                f"{record.id} is a member of staff: accounts and staff share one id space.", field="id", current=current
            )
    if not _changes(command, current, record):
        assert current is not None
        return current
    if current is not None and record.kind is not current.kind:
        raise _invalid(
            f"{record.id} is a {current.kind.value}; an account's kind never changes.", field="kind", current=current
        )
    tenant = _placed(directory, authority, command, current)
    if current is None:
        return Account.register(command, record, tenant=tenant)
    current.replace(command, record)
    return current


def _placed(directory: Directory, authority: Authority, command: PutAccount, current: Account | None) -> str:
    """Where the account goes, checked: its tenant."""
    record = command.account
    if record.kind is AccountKind.PROVIDER:
        if record.parent_id is not None:
            raise _invalid("A provider has no parent.", field="parent_id", current=current)
        if not TENANT_PATTERN.fullmatch(record.id):
            raise _invalid(
                f"A provider's id becomes its tenant: 1-63 lower-case letters, digits, '-' or '_', not {record.id!r}.",
                field="id",
                current=current,
            )
        if record.id != authority.tenant or not authority.may_put_account(record.id, ()):
            raise RecordNotFound(command.key)
        return record.id
    if record.parent_id is None:
        raise _invalid(f"A {record.kind.value} hangs under a parent account.", field="parent_id", current=current)
    parent = _account_in(directory, authority, record.parent_id)
    if parent is None:
        raise _invalid(f"There is no account {record.parent_id} in this tenant.", field="parent_id", current=current)
    if not authority.may_put_account(record.id, [parent.record_id, *lineage(directory, parent)]):
        raise RecordNotFound(command.key)
    if parent.kind not in record.kind.parent_kinds:
        allowed = " or ".join(sorted(kind.value for kind in record.kind.parent_kinds))
        raise _invalid(
            f"A {record.kind.value} hangs under a {allowed}, not under the {parent.kind.value} {parent.record_id}.",
            field="parent_id",
            current=current,
        )
    if current is None and parent.disabled:
        raise _invalid(f"{parent.record_id} is disabled: it takes no new account.", field="parent_id", current=current)
    return parent.tenant


# -- staff -------------------------------------------------------------------------------------------------


def _put_staff(directory: Directory, command: PutStaff) -> DirectoryEntry:
    record = command.staff
    current = directory.principal(record.id)
    if current is not None and command.command_id in current.applied:
        return current
    authority = authority_of(directory, command)
    if current is not None:
        _may_change_principal(directory, authority, current, command.key)
        if isinstance(current, Account):
            raise _invalid(
                f"{record.id} is an account: accounts and staff share one id space.", field="id", current=current
            )
    if not _changes(command, current, record):
        assert current is not None
        return current
    organisation = _account_in(directory, authority, record.organisation_id)
    if organisation is None:
        raise _invalid(
            f"There is no organisation {record.organisation_id} in this tenant.",
            field="organisation_id",
            current=current,
        )
    if not authority.may_put_staff(organisation.record_id):
        raise RecordNotFound(command.key)
    if not organisation.kind.has_staff:
        raise _invalid(
            f"{organisation.record_id} is a {organisation.kind.value}: only providers and resellers have staff.",
            field="organisation_id",
            current=current,
        )
    _check_memberships(directory, record, current)
    if current is None:
        return Staff.register(command, record, tenant=organisation.tenant)
    current.replace(command, record)
    return current


def _check_memberships(directory: Directory, record: StaffRecord, current: Staff | None) -> None:
    configuration = directory.configuration(record.organisation_id)
    departments = {department.name: department for department in (configuration.departments if configuration else ())}
    kept = (
        set(current.departments) if current is not None and current.organisation_id == record.organisation_id else set()
    )
    if len(set(record.departments)) != len(record.departments):
        raise _invalid("A department is named twice.", field="departments", current=current)
    for name in record.departments:
        department = departments.get(name)
        if department is None:
            raise _invalid(
                f"{name!r} is not a department of {record.organisation_id}.", field="departments", current=current
            )
        if department.retired and name not in kept:
            raise _invalid(
                f"The department {name!r} is retired: it takes no new member.", field="departments", current=current
            )


# -- configurations ----------------------------------------------------------------------------------------


def _configure(directory: Directory, command: Configure) -> DirectoryEntry:
    record = command.configuration
    current = directory.configuration(record.organisation_id)
    if current is not None and command.command_id in current.applied:
        return current
    authority = authority_of(directory, command)
    if current is not None and (
        current.tenant != authority.tenant or not authority.may_configure(current.organisation_id)
    ):
        raise RecordNotFound(command.key)
    if not _changes(command, current, record):
        assert current is not None
        return current
    organisation = _configured_organisation(directory, authority, record.organisation_id, command.key, current)
    _check_configuration(directory, record, current)
    if current is None:
        return OrganisationConfiguration.register(command, record, tenant=organisation.tenant)
    current.replace(command, record)
    return current


def _configured_organisation(
    directory: Directory, authority: Authority, organisation_id: str, key: str, current: DirectoryEntry | None
) -> Account:
    """The organisation a configuration or a support address is of: an account of the tenant that handles tickets,
    which the actor may configure."""
    organisation = _account_in(directory, authority, organisation_id)
    if organisation is None:
        raise _invalid(
            f"There is no organisation {organisation_id} in this tenant.", field="organisation_id", current=current
        )
    if not authority.may_configure(organisation.record_id):
        raise RecordNotFound(key)
    if not organisation.kind.handles:
        raise _invalid(
            f"{organisation.record_id} is a subaccount: it handles no tickets.",
            field="organisation_id",
            current=current,
        )
    return organisation


def _check_configuration(
    directory: Directory, record: Configuration, current: OrganisationConfiguration | None
) -> None:
    _check_unique((department.name for department in record.departments), field="departments", current=current)
    _check_unique((category.name for category in record.categories), field="categories", current=current)
    _check_unique((canned.name for canned in record.canned_responses), field="canned_responses", current=current)
    departments = {department.name for department in record.departments}
    for category in record.categories:
        if category.department is not None and category.department not in departments:
            raise _invalid(
                f"The category {category.name!r} goes to {category.department!r}, which is not one of the departments.",
                field="categories",
                current=current,
            )
        if category.assignee_id is not None:
            staff = directory.principal(category.assignee_id)
            if not isinstance(staff, Staff) or staff.organisation_id != record.organisation_id:
                raise _invalid(
                    f"The category {category.name!r} goes to {category.assignee_id}, who is not staff of "
                    f"{record.organisation_id}.",
                    field="categories",
                    current=current,
                )
    if current is not None:
        removed = [department.name for department in current.departments if department.name not in departments]
        if removed:
            raise _invalid(
                f"Departments are retired, never removed, so that no ticket is left in one that is gone: keep "
                f"{', '.join(repr(name) for name in removed)} (retired if need be).",
                field="departments",
                current=current,
            )


def _check_unique(names: Iterable[str], *, field: str, current: DirectoryEntry | None) -> None:
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            raise _invalid(f"{name!r} is named twice in {field}.", field=field, current=current)
        seen.add(name.casefold())


# -- API keys ----------------------------------------------------------------------------------------------


def _put_api_key(directory: Directory, command: PutApiKey) -> DirectoryEntry:
    record = command.api_key
    current = directory.api_key(record.id)
    if current is not None and command.command_id in current.applied:
        return current
    authority = authority_of(directory, command)
    if current is not None:
        _may_put_key_of(directory, authority, current.account_id, command.key)
    if not _changes(command, current, record):
        assert current is not None
        return current
    account = _account_in(directory, authority, record.account_id)
    if account is None:
        raise _invalid(f"There is no account {record.account_id} in this tenant.", field="account_id", current=current)
    _may_put_key_of(directory, authority, account.record_id, command.key)
    if current is None:
        return ApiKey.register(command, record, tenant=account.tenant)
    if record.account_id != current.account_id:
        raise _invalid("A key acts for the account it was made for, for ever.", field="account_id", current=current)
    if record.secret_sha256 != current.secret_sha256:
        raise _invalid(
            f"The key {record.id} exists: a key is made once; make a new one.", field="secret_sha256", current=current
        )
    if current.revoked and not record.revoked:
        raise _invalid(f"The key {record.id} is revoked, for ever; make a new one.", field="revoked", current=current)
    current.replace(command, record)
    return current


def _may_put_key_of(directory: Directory, authority: Authority, account_id: str, key: str) -> None:
    account = _account_in(directory, authority, account_id)
    if account is None or not authority.may_put_api_key(account_id, lineage(directory, account)):
        raise RecordNotFound(key)


# -- support addresses -------------------------------------------------------------------------------------


def _put_support_address(directory: Directory, command: PutSupportAddress) -> DirectoryEntry:
    record = command.support_address
    current = directory.support_address(record.address)
    if current is not None and command.command_id in current.applied:
        return current
    authority = authority_of(directory, command)
    if current is not None and (
        current.tenant != authority.tenant
        or current.organisation_id != record.organisation_id
        or not authority.may_configure(current.organisation_id)
    ):
        raise RecordNotFound(command.key)
    if not _changes(command, current, record):
        assert current is not None
        return current
    organisation = _configured_organisation(directory, authority, record.organisation_id, command.key, current)
    if record.department is not None:
        configuration = directory.configuration(record.organisation_id)
        departments = {d.name: d for d in configuration.departments} if configuration is not None else {}
        department = departments.get(record.department)
        if department is None or department.retired:
            raise _invalid(
                f"{record.department!r} is not a department of {record.organisation_id} that takes tickets.",
                field="department",
                current=current,
            )
    if current is None:
        return SupportAddress.register(command, record, tenant=organisation.tenant)
    current.replace(command, record)
    return current
