"""The commands beside the directory's groups: ``token``, ``demo``, ``dead-letters list`` and ``replay``."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncpg
import typer
from hostdesk_contracts.directory import AccountRecord, StaffRecord, record_key
from rich.table import Table

from hostdesk_cli import dead_letters
from hostdesk_cli.demo import demo_plan, env_lines, put_plan
from hostdesk_cli.directory import Directory
from hostdesk_cli.outcomes import REFUSED, UNREACHABLE, CommandFailed
from hostdesk_cli.session import session_of
from hostdesk_cli.tokens import DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, mint

DEMO_TENANT = "demo"
DEMO_TTL_SECONDS = 30 * 86_400
ERROR_WIDTH = 120  # characters of a dead letter's error shown in the table

dead_letters_app = typer.Typer(help="Messages query and notify set aside, from their PostgreSQL tables.")


def register(app: typer.Typer) -> None:
    app.command("token")(token)
    app.command("demo")(demo)
    app.add_typer(dead_letters_app, name="dead-letters")


def token(
    context: typer.Context,
    subject: str = typer.Argument(..., metavar="ID", help="An account's or a staff member's id."),
    ttl: int = typer.Option(DEFAULT_TTL_SECONDS, min=60, max=MAX_TTL_SECONDS, help="Seconds the token is valid."),
    check: bool = typer.Option(True, help="Look the id up in the directory first (--no-check: mint offline)."),
) -> None:
    """Mint a bearer token (HS256) naming an account or a staff member; the directory says who they are."""
    session = session_of(context)
    secret = session.guarded(session.connection.required_jwt_secret)
    if check:

        async def known(directory: Directory) -> bool:
            return isinstance(await directory.get(record_key(AccountRecord, subject)), AccountRecord | StaffRecord)

        if not session.run(known):
            session.fail(
                f"No account or staff member {subject!r} in the directory (--no-check to mint anyway).",
                exit_code=REFUSED,
            )
    session.console.print(mint(subject, secret=secret, ttl_seconds=ttl), markup=False, highlight=False, soft_wrap=True)


def demo(
    context: typer.Context,
    env: Path | None = typer.Option(None, "--env", help="Also write the tokens to this file, as KEY=value lines."),
    ttl: int = typer.Option(DEMO_TTL_SECONDS, min=60, max=MAX_TTL_SECONDS, help="Seconds the tokens are valid."),
) -> None:
    """Build the demo directory (running it again changes nothing) and print a token for each kind of caller."""
    session = session_of(context)
    tenant = session.connection.tenant or DEMO_TENANT
    secret = session.guarded(session.connection.required_jwt_secret)
    plan = demo_plan(tenant)
    applied = session.run(lambda directory: put_plan(directory, plan, actor=session.connection.provider(tenant)))

    changes = Table(title=f"Demo directory of tenant {tenant}", title_justify="left")
    for column in ("record", "what became of it"):
        changes.add_column(column)
    for each in applied:
        changes.add_row(each.key, each.said)
    session.console.print(changes)

    tokens = [(each, mint(each.subject, secret=secret, ttl_seconds=ttl)) for each in plan.tokens]
    table = Table(title="Tokens", title_justify="left")
    for column in ("caller", "id", "variable", "token"):
        table.add_column(column, overflow="fold")
    for demo_token, value in tokens:
        table.add_row(demo_token.caller, demo_token.subject, demo_token.env_key, value)
    session.console.print(table)
    if env is not None:
        _write_private(env, env_lines(tokens))
        session.console.print(f"Tokens written to {env}.")


def _write_private(path: Path, text: str) -> None:
    """Tokens are secrets: the file is its owner's alone, from its first byte."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


@dead_letters_app.command("list")
def list_dead_letters(
    context: typer.Context,
    service: dead_letters.Service | None = typer.Option(None, help="Only query's or only notify's (default: both)."),
    limit: int = typer.Option(20, min=1, max=1000, help="The newest N."),
    query_schema: str = typer.Option("query", envvar="QUERY_DB_SCHEMA", help="Query's schema."),
    notify_schema: str = typer.Option("notify", envvar="NOTIFY_DB_SCHEMA", help="Notify's schema."),
) -> None:
    """The newest dead letters of query and notify: when, what, why."""
    session = session_of(context)
    schemas = {dead_letters.Service.QUERY: query_schema, dead_letters.Service.NOTIFY: notify_schema}
    if service is not None:
        schemas = {service: schemas[service]}

    def read() -> dead_letters.Found:
        try:
            return asyncio.run(dead_letters.read(session.connection.database_url, schemas, limit=limit))
        except ValueError as error:
            raise CommandFailed(str(error)) from error
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            raise CommandFailed(f"PostgreSQL cannot be read: {error}", exit_code=UNREACHABLE) from error

    found = session.guarded(read)
    for table_name in found.missing:
        session.wiring.errors.print(f"No table {table_name} in this database.", markup=False)
    table = Table(title="Dead letters", title_justify="left")
    for column in ("service", "id", "received", "subject", "event", "ticket", "stream seq", "deliveries", "error"):
        table.add_column(column, overflow="fold")
    for letter in found.letters:
        table.add_row(
            letter.service.value,
            str(letter.id),
            letter.received_at.isoformat(timespec="seconds"),
            letter.subject,
            letter.event_type or "",
            letter.ticket_id or "",
            "" if letter.stream_seq is None else str(letter.stream_seq),
            "" if letter.deliveries is None else str(letter.deliveries),
            letter.error[:ERROR_WIDTH],
        )
    session.console.print(table)


@dead_letters_app.command("replay")
def replay_dead_letter(
    context: typer.Context,
    letter_id: int = typer.Argument(..., min=1, metavar="ID", help="The dead letter's id (dead-letters list)."),
    service: dead_letters.Service = typer.Option(dead_letters.Service.QUERY, help="Whose dead letter."),
    query_schema: str = typer.Option("query", envvar="QUERY_DB_SCHEMA", help="Query's schema."),
    notify_schema: str = typer.Option("notify", envvar="NOTIFY_DB_SCHEMA", help="Notify's schema."),
) -> None:
    """Have query or notify apply one of its dead letters again, once what stopped it is mended (exit 1 when it
    stays)."""
    session = session_of(context)
    schema = query_schema if service is dead_letters.Service.QUERY else notify_schema

    def run() -> dead_letters.Replay:
        try:
            return asyncio.run(
                dead_letters.replay(
                    session.connection.database_url,
                    service,
                    schema,
                    letter_id,
                    within=session.connection.wait_seconds,
                )
            )
        except (ValueError, LookupError) as error:
            raise CommandFailed(str(error)) from error
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            raise CommandFailed(f"PostgreSQL cannot be reached: {error}", exit_code=UNREACHABLE) from error

    outcome = session.guarded(run)
    if outcome.replayed:
        session.console.print(f"Dead letter {letter_id} replayed: applied, no longer kept.")
    elif outcome.error is not None:
        session.fail(f"Dead letter {letter_id} is kept still: {outcome.error}", exit_code=REFUSED)
    else:
        session.fail(
            f"{service.value} has not replayed dead letter {letter_id} yet (is it running?); it will when it looks"
            " again.",
            exit_code=UNREACHABLE,
        )
