"""``hostdesk import tickets FILE``: the tickets of the previous helpdesk, one JSON object a line (the body of
``POST /v1/imports/tickets``: source, number, subject, requester_id, status, posts with their dates and authors,
message_ids), each sent as an import acting as the tenant's provider account, one after the other.

A line that is no import is named and skipped, and the others go on; a ticket imported before is the same ticket
(nothing more recorded); a number another ticket has is refused, named, and the others go on. The exit status is
0 when every line was imported, 1 otherwise, so a script can tell; ``--from-line`` starts again where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from hostdesk_contracts.base import Actor
from hostdesk_contracts.commands import ImportSource, ImportTicket, imported_ticket_id_for
from pydantic import ValidationError

from hostdesk_cli.directory import Directory
from hostdesk_cli.ids import now
from hostdesk_cli.session import session_of

app = typer.Typer(help="Import from the previous helpdesk.")


def command_of(line: str, *, actor: Actor) -> ImportTicket:
    """The import a line asks for (``ValueError`` or ``ValidationError`` when it is none). The ids are the
    command's own: the tenant and the source give the ticket's, whatever the line says."""
    fields = json.loads(line)
    if not isinstance(fields, dict):
        raise ValueError("a line is a JSON object")
    ticket_id = imported_ticket_id_for(actor.tenant, ImportSource.model_validate(fields.get("source")))
    ids = {"command_id": f"import-{ticket_id}", "ticket_id": ticket_id, "actor": actor, "issued_at": now()}
    return ImportTicket.model_validate(fields | ids)


@app.command("tickets")
def tickets(
    context: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="JSON lines, one ticket each."),
    from_line: int = typer.Option(1, min=1, help="The first line to import (to start again where a run stopped)."),
) -> None:
    """Import the tickets of FILE, each with its number, requester, posts, status and Message-IDs."""
    session = session_of(context)

    async def work(directory: Directory) -> tuple[int, int]:
        actor = session.connection.provider()
        imported = failed = 0
        with file.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if number < from_line or not line.strip():
                    continue
                try:
                    command = command_of(line, actor=actor)
                except (ValueError, ValidationError) as error:
                    session.console.print(f"line {number}: not an import: {_first(error)}")
                    failed += 1
                    continue
                outcome = await directory.send(command)
                if outcome is None:
                    session.console.print(f"line {number}: no outcome in time; run again with --from-line {number}")
                    failed += 1
                    break
                if outcome.result == "refused":
                    session.console.print(f"line {number}: {command.source.ticket_id} refused: {outcome.detail}")
                    failed += 1
                    continue
                session.console.print(f"line {number}: {command.source.ticket_id} is ticket #{outcome.number}")
                imported += 1
        return imported, failed

    imported, failed = session.run(work)
    session.console.print(f"{imported} imported, {failed} not.")
    if failed:
        raise typer.Exit(1)


def _first(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(str(each) for each in first['loc'])}: {first['msg']}"
    return str(error)
