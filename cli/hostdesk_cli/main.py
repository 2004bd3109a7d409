"""The ``hostdesk`` command: its connection options (each also an environment variable, see ``connection``)
and its groups of commands."""

from __future__ import annotations

import typer
from hostdesk_contracts.runtime.settings import LOCAL_DATABASE_URL, LOCAL_NATS_URL

from hostdesk_cli import (
    accounts,
    api_keys,
    departments,
    generate,
    imports,
    operations,
    read_models,
    staff,
    support_addresses,
)
from hostdesk_cli.connection import (
    DATABASE_URL_ENV,
    DEFAULT_WAIT_SECONDS,
    JWT_SECRET_ENV,
    NATS_PASSWORD_ENV,
    NATS_URL_ENV,
    NATS_USER_ENV,
    ROOT_ENV,
    TENANT_ENV,
    Connection,
    SettingError,
)
from hostdesk_cli.session import Session, Wiring

app = typer.Typer(
    help="Operate a HostDesk installation: its directory, tokens, API keys, dead letters and read models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # a traceback must never print the password or the token key
)
app.add_typer(accounts.app, name="accounts")
app.add_typer(staff.app, name="staff")
app.add_typer(departments.app, name="departments")
app.add_typer(api_keys.app, name="api-keys")
app.add_typer(support_addresses.app, name="support-addresses")
app.add_typer(imports.app, name="import")
app.add_typer(read_models.app, name="read-model")
app.command("generate")(generate.generate_command)
operations.register(app)


@app.callback()
def main(
    context: typer.Context,
    nats_url: str = typer.Option(LOCAL_NATS_URL, envvar=NATS_URL_ENV, help="NATS with JetStream."),
    nats_user: str = typer.Option("admin", envvar=NATS_USER_ENV, help="The NATS user (the operators' admin)."),
    nats_password: str = typer.Option("", envvar=NATS_PASSWORD_ENV, help="Its password.", show_default=False),
    root: str = typer.Option("tickets", envvar=ROOT_ENV, help="The installation's subject root."),
    tenant: str | None = typer.Option(None, envvar=TENANT_ENV, help="The provider's id: the tenant acted in."),
    jwt_secret: str | None = typer.Option(
        None, envvar=JWT_SECRET_ENV, help="The HS256 key of bearer tokens.", show_default=False
    ),
    database_url: str = typer.Option(LOCAL_DATABASE_URL, envvar=DATABASE_URL_ENV, help="PostgreSQL."),
    wait: float = typer.Option(DEFAULT_WAIT_SECONDS, help="Seconds to wait for a command's outcome."),
) -> None:
    """HostDesk's operator command line. It acts as the tenant's provider account."""
    wiring = context.obj if isinstance(context.obj, Wiring) else Wiring()
    try:
        connection = Connection(
            nats_url=nats_url,
            nats_user=nats_user,
            nats_password=nats_password,
            root=root,
            tenant=tenant,
            jwt_secret=jwt_secret,
            database_url=database_url,
            wait_seconds=wait,
        )
    except SettingError as error:
        raise typer.BadParameter(str(error)) from error
    context.obj = Session(connection=connection, wiring=wiring)
