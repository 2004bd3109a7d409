"""``hostdesk staff``: put a support account of the provider's or a reseller's organisation, list them."""

from __future__ import annotations

import typer
from hostdesk_contracts.directory import Language, PutStaff, StaffRecord, StaffRole, record_key

from hostdesk_cli.changes import apply, built, command_id_option, said
from hostdesk_cli.directory import Directory
from hostdesk_cli.ids import PLACEHOLDER, now
from hostdesk_cli.records import RecordKind, Tree, in_tenant
from hostdesk_cli.render import staff_table
from hostdesk_cli.session import session_of

app = typer.Typer(help="Support staff: agents and supervisors of the provider's and the resellers' organisations.")

STAFF_OPTIONS = {
    "id": "ID",
    "organisation_id": "--organisation",
    "role": "--role",
    "display_name": "--name",
    "email": "--email",
    "departments": "--department",
    "language": "--language",
}


@app.command("put")
def put(
    context: typer.Context,
    staff_id: str = typer.Argument(..., metavar="ID", help="The staff member's id (shared with accounts' ids)."),
    organisation: str = typer.Option(..., help="The provider or reseller they work for."),
    role: StaffRole = typer.Option(..., help="agent (answers tickets) or supervisor (also configures)."),
    name: str = typer.Option(..., help="Their display name."),
    email: str | None = typer.Option(None, help="Where their notifications go."),
    department: list[str] = typer.Option([], help="A department of the organisation they are in; repeatable."),
    language: Language = typer.Option(Language.EN, help="The language of their mail."),
    disabled: bool = typer.Option(False, "--disabled", help="Refuse their tokens."),
    command_id: str | None = command_id_option(),
) -> None:
    """Create or replace a staff member."""
    session = session_of(context)
    record = built(
        StaffRecord,
        STAFF_OPTIONS,
        id=staff_id,
        organisation_id=organisation,
        role=role,
        display_name=name,
        email=email,
        departments=tuple(dict.fromkeys(department)),
        language=language,
        disabled=disabled,
    )

    async def work(directory: Directory) -> str:
        current = await directory.get(record_key(record))
        command = PutStaff(command_id=PLACEHOLDER, actor=session.connection.provider(), issued_at=now(), staff=record)
        outcome = await apply(directory, command, current=current, command_id=command_id)
        return said(outcome, current=current, asked=record)

    session.console.print(session.run(work))


@app.command("list")
def list_staff(
    context: typer.Context,
    organisation: str | None = typer.Option(None, help="Only the staff of this organisation."),
) -> None:
    """The tenant's staff, by organisation."""
    session = session_of(context)
    tenant = session.guarded(session.connection.required_tenant)

    async def work(directory: Directory) -> list[StaffRecord]:
        principals = await directory.records(RecordKind.PRINCIPAL)
        tree = Tree.of(principals)
        return [
            record
            for record in principals
            if isinstance(record, StaffRecord)
            and in_tenant(record, tree, tenant)
            and (organisation is None or record.organisation_id == organisation)
        ]

    session.console.print(staff_table(session.run(work)))
