"""``hostdesk support-addresses``: the addresses an organisation receives support mail at (its MTA forwards them to
intake's SMTP listener), each with the department its mail lands in; retire one to stop its mail."""

from __future__ import annotations

import typer
from hostdesk_contracts.directory import PutSupportAddress, SupportAddressRecord, record_key
from pydantic import ValidationError

from hostdesk_cli.changes import apply, command_id_option
from hostdesk_cli.directory import Directory
from hostdesk_cli.ids import PLACEHOLDER, now
from hostdesk_cli.session import session_of

app = typer.Typer(help="Support addresses: where an organisation receives support mail.")


@app.command("put")
def put(
    context: typer.Context,
    address: str = typer.Argument(..., metavar="ADDRESS", help="e.g. support@example.com"),
    organisation: str = typer.Option(..., help="The organisation that handles its mail."),
    department: str | None = typer.Option(None, help="The department its tickets land in."),
    retired: bool = typer.Option(False, "--retired", help="Take no more mail at it (it stays the organisation's)."),
    command_id: str | None = command_id_option(),
) -> None:
    """Receive support mail at ADDRESS for an organisation, or change its department."""
    session = session_of(context)
    try:
        record = SupportAddressRecord(
            address=address, organisation_id=organisation, department=department, retired=retired
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise typer.BadParameter(str(first["msg"]), param_hint=".".join(str(each) for each in first["loc"])) from error

    async def work(directory: Directory) -> int | None:
        current = await directory.get(record_key(record))
        command = PutSupportAddress(
            command_id=PLACEHOLDER, actor=session.connection.provider(), issued_at=now(), support_address=record
        )
        held = current if isinstance(current, SupportAddressRecord) else None
        return (await apply(directory, command, current=held, command_id=command_id)).version

    version = session.run(work)
    session.console.print(f"Support address {record.address} of {organisation} (version {version}).")
