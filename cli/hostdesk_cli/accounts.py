"""``hostdesk accounts``: put an account of the tenant's tree, list the tree, show one account."""

from __future__ import annotations

from typing import Any

import typer
from hostdesk_contracts.directory import AccountKind, AccountRecord, Language, PutAccount, record_key

from hostdesk_cli.changes import apply, built, command_id_option, said
from hostdesk_cli.directory import Directory
from hostdesk_cli.ids import PLACEHOLDER, now
from hostdesk_cli.outcomes import CommandFailed
from hostdesk_cli.records import RecordKind, Tree
from hostdesk_cli.render import account_table, accounts_table
from hostdesk_cli.session import session_of

app = typer.Typer(help="The tenant's accounts: the provider, its resellers, customers and subaccounts.")

ACCOUNT_OPTIONS = {
    "id": "ID",
    "kind": "--kind",
    "parent_id": "--parent",
    "display_name": "--name",
    "email": "--email",
    "language": "--language",
    "services": "--service",
}


def parse_services(values: list[str]) -> list[dict[str, str]]:
    """``--service vps-1042="VPS Prague"``: the service's id, then its label."""
    services = []
    for value in values:
        service_id, equals, label = value.partition("=")
        if not equals or not service_id or not label:
            raise typer.BadParameter(f"{value!r} is not id=label", param_hint="--service")
        services.append({"id": service_id, "label": label})
    return services


def account_record(
    account_id: str,
    *,
    kind: AccountKind,
    parent: str | None,
    name: str,
    email: str | None = None,
    language: Language = Language.EN,
    services: list[str] | None = None,
    disabled: bool = False,
) -> AccountRecord:
    """The record the options describe, or a usage error naming the option at fault."""
    if kind is AccountKind.PROVIDER and parent is not None:
        raise typer.BadParameter("a provider has no parent", param_hint="--parent")
    if kind is not AccountKind.PROVIDER and parent is None:
        raise typer.BadParameter(f"a {kind.value} needs its parent", param_hint="--parent")
    fields: dict[str, Any] = {
        "id": account_id,
        "kind": kind,
        "parent_id": parent,
        "display_name": name,
        "email": email,
        "language": language,
        "services": parse_services(services or []),
        "disabled": disabled,
    }
    return built(AccountRecord, ACCOUNT_OPTIONS, **fields)


@app.command("put")
def put(
    context: typer.Context,
    account_id: str = typer.Argument(..., metavar="ID", help="The control panel's own id."),
    kind: AccountKind = typer.Option(..., help="provider, reseller, customer or subaccount."),
    parent: str | None = typer.Option(None, help="The account it hangs under (every kind but a provider)."),
    name: str = typer.Option(..., help="Its display name."),
    email: str | None = typer.Option(None, help="Where its notifications go."),
    language: Language = typer.Option(Language.EN, help="The language of its mail."),
    service: list[str] = typer.Option([], help="A hosting service, id=label; repeatable."),
    disabled: bool = typer.Option(False, "--disabled", help="Refuse its tokens and keys."),
    command_id: str | None = command_id_option(),
) -> None:
    """Create or replace an account. A provider is its own tenant; any other account is put in the tenant."""
    session = session_of(context)
    record = account_record(
        account_id,
        kind=kind,
        parent=parent,
        name=name,
        email=email,
        language=language,
        services=service,
        disabled=disabled,
    )

    async def work(directory: Directory) -> str:
        tenant = _tenant_for(record, session.connection.tenant)
        current = await directory.get(record_key(record))
        command = PutAccount(
            command_id=PLACEHOLDER, actor=session.connection.provider(tenant), issued_at=now(), account=record
        )
        outcome = await apply(directory, command, current=current, command_id=command_id)
        return said(outcome, current=current, asked=record)

    session.console.print(session.run(work))


def _tenant_for(record: AccountRecord, tenant: str | None) -> str:
    """A provider acts as itself (it creates itself first); any other account is put by the tenant's provider."""
    if record.kind is AccountKind.PROVIDER:
        if tenant is not None and tenant != record.id:
            raise CommandFailed(f"a provider is its own tenant: {record.id!r}, not the tenant given ({tenant!r})")
        return record.id
    if tenant is None:
        raise CommandFailed("no tenant: give --tenant or set HOSTDESK_TENANT (the provider's id)")
    return tenant


@app.command("list")
def list_accounts(
    context: typer.Context,
    kind: AccountKind | None = typer.Option(None, help="Only accounts of this kind."),
    under: str | None = typer.Option(None, help="Only the accounts below this one."),
) -> None:
    """The tenant's accounts in tree order, each under its parent."""
    session = session_of(context)

    async def work(directory: Directory) -> Tree:
        return Tree.of(await directory.records(RecordKind.PRINCIPAL))

    tenant = session.guarded(session.connection.required_tenant)
    tree = session.run(work)
    if under is not None and tree.tenant_of(under) != tenant:
        session.fail(f"No account {under!r} in tenant {tenant!r}.", exit_code=1)
    placed = tree.ordered(under=under, tenant=tenant)
    session.console.print(accounts_table([each for each in placed if kind is None or each.account.kind is kind]))


@app.command("show")
def show(context: typer.Context, account_id: str = typer.Argument(..., metavar="ID")) -> None:
    """One account: its place in the tree, its services, its children."""
    session = session_of(context)

    async def work(directory: Directory) -> Tree:
        return Tree.of(await directory.records(RecordKind.PRINCIPAL))

    tenant = session.guarded(session.connection.required_tenant)
    tree = session.run(work)
    account = tree.accounts.get(account_id)
    if account is None or tree.tenant_of(account_id) != tenant:
        session.fail(f"No account {account_id!r} in tenant {tenant!r}.", exit_code=1)
    session.console.print(account_table(account, tree))
