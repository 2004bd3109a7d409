"""``hostdesk departments``: an organisation's departments, changed in its configuration record.

A change reads the configuration, changes it, and sends the whole of it back (``Configure``) with the version it
read as ``expected_version``: a change made meanwhile by someone else is refused as stale, never overwritten.
Departments are retired, never removed (a ticket is never left in none); adding a retired one brings it back.
"""

from __future__ import annotations

from dataclasses import dataclass

import typer
from hostdesk_contracts.directory import Configuration, Configure, Department, StaffRecord, record_key

from hostdesk_cli.changes import apply, command_id_option
from hostdesk_cli.directory import Directory
from hostdesk_cli.ids import PLACEHOLDER, now
from hostdesk_cli.outcomes import CommandFailed
from hostdesk_cli.records import RecordKind
from hostdesk_cli.render import departments_table
from hostdesk_cli.session import Session, session_of

app = typer.Typer(help="An organisation's departments (in its configuration).")


@dataclass(frozen=True)
class Change:
    """A configuration as changed, or None when it already is as asked; and what to say either way."""

    configuration: Configuration | None
    said: str


def added(current: Configuration, name: str, *, round_robin: bool) -> Change:
    for department in current.departments:
        if department.name == name:
            if not department.retired and department.round_robin == round_robin:
                return Change(None, f"{name!r} is already a department of {current.organisation_id}.")
            wanted = Department(name=name, round_robin=round_robin)
            return Change(_replaced(current, wanted), f"{name!r} of {current.organisation_id} is active again.")
    departments = (*current.departments, Department(name=name, round_robin=round_robin))
    return Change(current.model_copy(update={"departments": departments}), f"Added {name!r}.")


def retired(current: Configuration, name: str) -> Change:
    for department in current.departments:
        if department.name == name:
            if department.retired:
                return Change(None, f"{name!r} of {current.organisation_id} is already retired.")
            wanted = department.model_copy(update={"retired": True})
            return Change(_replaced(current, wanted), f"Retired {name!r}: it takes no new ticket.")
    known = ", ".join(repr(each.name) for each in current.departments) or "none"
    raise CommandFailed(f"{current.organisation_id} has no department {name!r} (its departments: {known}).")


def _replaced(current: Configuration, wanted: Department) -> Configuration:
    departments = tuple(wanted if each.name == wanted.name else each for each in current.departments)
    return current.model_copy(update={"departments": departments})


async def _configuration(directory: Directory, organisation: str) -> Configuration | None:
    record = await directory.get(record_key(Configuration, organisation))
    return record if isinstance(record, Configuration) else None


def _change(
    session: Session,
    organisation: str,
    name: str,
    *,
    round_robin: bool | None = None,
    expected_version: int | None,
    command_id: str | None,
) -> None:
    """Read, change (``round_robin`` None: retire), send with the version read; print what became of it."""

    async def work(directory: Directory) -> str:
        current = await _configuration(directory, organisation)
        if current is None and round_robin is None:
            raise CommandFailed(f"{organisation} has no configuration, so no department {name!r}.")
        base = current or Configuration(organisation_id=organisation)
        change = retired(base, name) if round_robin is None else added(base, name, round_robin=round_robin)
        if change.configuration is None:
            return change.said
        command = Configure(
            command_id=PLACEHOLDER,
            actor=session.connection.provider(),
            issued_at=now(),
            expected_version=expected_version or (current.version if current else None),
            configuration=change.configuration,
        )
        outcome = await apply(directory, command, current=current, command_id=command_id)
        return f"{change.said} {outcome.key} is at version {outcome.version}."

    session.console.print(session.run(work))


def _name(value: str) -> str:
    if not 0 < len(value) <= 100:
        raise typer.BadParameter("1 to 100 characters", param_hint="NAME")
    return value


EXPECTED_VERSION_HELP = "Refuse unless the configuration is at this version (default: the version just read)."


@app.command("add")
def add(
    context: typer.Context,
    organisation: str = typer.Argument(..., metavar="ORG"),
    name: str = typer.Argument(..., metavar="NAME", callback=_name),
    round_robin: bool = typer.Option(False, "--round-robin", help="New tickets go to its agents in turn."),
    expected_version: int | None = typer.Option(None, min=1, help=EXPECTED_VERSION_HELP),
    command_id: str | None = command_id_option(),
) -> None:
    """Add a department to an organisation (or bring a retired one back)."""
    _change(
        session_of(context),
        organisation,
        name,
        round_robin=round_robin,
        expected_version=expected_version,
        command_id=command_id,
    )


@app.command("retire")
def retire(
    context: typer.Context,
    organisation: str = typer.Argument(..., metavar="ORG"),
    name: str = typer.Argument(..., metavar="NAME", callback=_name),
    expected_version: int | None = typer.Option(None, min=1, help=EXPECTED_VERSION_HELP),
    command_id: str | None = command_id_option(),
) -> None:
    """Retire a department: it takes no new ticket or transfer; its tickets stay and can be moved out."""
    _change(session_of(context), organisation, name, expected_version=expected_version, command_id=command_id)


@app.command("list")
def list_departments(context: typer.Context, organisation: str = typer.Argument(..., metavar="ORG")) -> None:
    """An organisation's departments and the staff in each."""
    session = session_of(context)

    async def work(directory: Directory) -> tuple[Configuration | None, list[StaffRecord]]:
        principals = await directory.records(RecordKind.PRINCIPAL)
        staff = [each for each in principals if isinstance(each, StaffRecord) and each.organisation_id == organisation]
        return await _configuration(directory, organisation), staff

    configuration, staff = session.run(work)
    if configuration is None:
        session.fail(f"{organisation} has no configuration yet: no departments.", exit_code=1)
    session.console.print(departments_table(configuration, staff))
