"""The tables the command line prints (rich): never a key's hash, never a secret but the one just made."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hostdesk_contracts.directory import AccountRecord, ApiKeyRecord, Configuration, StaffRecord
from rich.table import Table

from hostdesk_cli.records import Placed, Tree


def accounts_table(placed: Sequence[Placed]) -> Table:
    table = Table(title="Accounts", title_justify="left")
    for column in ("id", "kind", "name", "email", "language", "services", "state", "version"):
        table.add_column(column)
    for each in placed:
        account = each.account
        table.add_row(
            "  " * each.depth + account.id,
            account.kind.value,
            account.display_name,
            account.email or "",
            account.language.value,
            ", ".join(f"{service.id} ({service.label})" for service in account.services),
            "disabled" if account.disabled else "active",
            str(account.version),
        )
    return table


def account_table(account: AccountRecord, tree: Tree) -> Table:
    table = Table(title=f"Account {account.id}", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    path = " > ".join(each.id for each in reversed(tree.ancestors(account.id)))
    rows = {
        "kind": account.kind.value,
        "parent": account.parent_id or "",
        "above it": path,
        "tenant": tree.tenant_of(account.id) or "(no provider above it)",
        "name": account.display_name,
        "email": account.email or "",
        "language": account.language.value,
        "state": "disabled" if account.disabled else "active",
        "services": "\n".join(f"{service.id}: {service.label}" for service in account.services),
        "children": ", ".join(child.id for child in tree.children(account.id)),
        "version": str(account.version),
    }
    for name, value in rows.items():
        table.add_row(name, value)
    return table


def staff_table(staff: Iterable[StaffRecord]) -> Table:
    table = Table(title="Staff", title_justify="left")
    for column in ("id", "organisation", "role", "name", "email", "departments", "language", "state", "version"):
        table.add_column(column)
    for member in sorted(staff, key=lambda each: (each.organisation_id, each.id)):
        table.add_row(
            member.id,
            member.organisation_id,
            member.role.value,
            member.display_name,
            member.email or "",
            ", ".join(member.departments),
            member.language.value,
            "disabled" if member.disabled else "active",
            str(member.version),
        )
    return table


def departments_table(configuration: Configuration, staff: Iterable[StaffRecord]) -> Table:
    members = list(staff)
    table = Table(
        title=f"Departments of {configuration.organisation_id} (configuration version {configuration.version})",
        title_justify="left",
    )
    for column in ("name", "state", "round robin", "staff"):
        table.add_column(column)
    for department in configuration.departments:
        table.add_row(
            department.name,
            "retired" if department.retired else "active",
            "yes" if department.round_robin else "no",
            ", ".join(member.id for member in members if department.name in member.departments),
        )
    return table


def api_keys_table(keys: Iterable[ApiKeyRecord]) -> Table:
    table = Table(title="API keys", title_justify="left")
    for column in ("id", "account", "label", "scopes", "state", "version"):
        table.add_column(column)
    for key in sorted(keys, key=lambda each: (each.account_id, each.id)):
        table.add_row(
            key.id,
            key.account_id,
            key.label,
            ", ".join(scope.value for scope in key.scopes),
            "revoked" if key.revoked else "active",
            str(key.version),
        )
    return table
