"""``hostdesk api-keys``: make a key for a system acting for an account, revoke one, list them (never their
hashes). See ``keys`` for what a key is."""

from __future__ import annotations

import typer
from hostdesk_contracts.directory import ApiKeyRecord, PutApiKey, Scope, record_key

from hostdesk_cli.changes import apply, built, command_id_option
from hostdesk_cli.directory import Directory
from hostdesk_cli.ids import PLACEHOLDER, now
from hostdesk_cli.keys import new_key
from hostdesk_cli.outcomes import CommandFailed
from hostdesk_cli.records import RecordKind, Tree, in_tenant
from hostdesk_cli.render import api_keys_table
from hostdesk_cli.session import session_of

app = typer.Typer(help="API keys of systems (monitoring, billing, the control panel) acting for an account.")

KEY_OPTIONS = {"account_id": "ACCOUNT", "label": "--label", "scopes": "--scope"}


@app.command("create")
def create(
    context: typer.Context,
    account: str = typer.Argument(..., metavar="ACCOUNT", help="The account the key acts for."),
    scope: list[Scope] = typer.Option(..., help="What the key may do; repeatable."),
    label: str = typer.Option(..., help="What the key is for, e.g. 'Monitoring'."),
    command_id: str | None = command_id_option(),
) -> None:
    """Make a key and print it, once: only its SHA-256 is sent and kept."""
    session = session_of(context)
    made = new_key()
    record = built(
        ApiKeyRecord,
        KEY_OPTIONS,
        id=made.id,
        account_id=account,
        label=label,
        scopes=tuple(dict.fromkeys(scope)),
        secret_sha256=made.sha256,
    )

    async def work(directory: Directory) -> int | None:
        command = PutApiKey(
            command_id=PLACEHOLDER, actor=session.connection.provider(), issued_at=now(), api_key=record
        )
        return (await apply(directory, command, current=None, command_id=command_id)).version

    version = session.run(work)
    session.console.print(f"Created API key {made.id} for {account} (version {version}). The key, shown only now:")
    session.console.print(made.key, markup=False, highlight=False, soft_wrap=True)


@app.command("revoke")
def revoke(
    context: typer.Context,
    key_id: str = typer.Argument(..., metavar="ID"),
    command_id: str | None = command_id_option(),
) -> None:
    """Revoke a key for good: it is refused from then on."""
    session = session_of(context)

    async def work(directory: Directory) -> str:
        current = await directory.get(record_key(ApiKeyRecord, key_id))
        if not isinstance(current, ApiKeyRecord):
            raise CommandFailed(f"No API key {key_id!r}.")
        if current.revoked:
            return f"API key {key_id} is already revoked."
        revoked = current.model_copy(update={"revoked": True})
        command = PutApiKey(
            command_id=PLACEHOLDER, actor=session.connection.provider(), issued_at=now(), api_key=revoked
        )
        outcome = await apply(directory, command, current=current, command_id=command_id)
        return f"Revoked API key {key_id} (version {outcome.version})."

    session.console.print(session.run(work))


@app.command("list")
def list_keys(
    context: typer.Context,
    account: str | None = typer.Option(None, help="Only the keys acting for this account."),
) -> None:
    """The tenant's API keys: id, account, label, scopes, state. Never their hashes."""
    session = session_of(context)
    tenant = session.guarded(session.connection.required_tenant)

    async def work(directory: Directory) -> list[ApiKeyRecord]:
        tree = Tree.of(await directory.records(RecordKind.PRINCIPAL))
        return [
            key
            for key in await directory.records(RecordKind.API_KEY)
            if isinstance(key, ApiKeyRecord)
            and in_tenant(key, tree, tenant)
            and (account is None or key.account_id == account)
        ]

    session.console.print(api_keys_table(session.run(work)))
