"""``hostdesk support-addresses``: the addresses an organisation receives support mail at (its MTA forwards them to
intake's SMTP listener, or delivers them to a mailbox intake polls), each with the department its mail lands in;
retire one to stop its mail.

A mailbox is given as a URL, ``imaps://support%40example.com@mail.example.com/INBOX`` (``imap``, ``imaps``,
``imap+starttls``, ``pop3``, ``pop3s``, ``pop3+starttls``; the user name percent-encoded, the port the protocol's
own unless given, the IMAP folder as the path), and its password read from a file (``--password-file``, ``-`` for
standard input), never from the command line. The password is sealed here with the installation's mailbox key
(``INTAKE_MAILBOX_KEYS``, as intake has it) before anything is sent. Without ``--mailbox``, the address keeps the
mailbox it has; ``--no-mailbox`` removes it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import typer
from hostdesk_contracts.directory import (
    MailboxProtocol,
    MailboxRecord,
    MailboxSecurity,
    PutSupportAddress,
    SupportAddressRecord,
    default_port,
    record_key,
)
from hostdesk_contracts.runtime.sealing import NoSealingKey, SealBroken, Sealer, new_key
from pydantic import ValidationError

from hostdesk_cli.changes import apply, command_id_option
from hostdesk_cli.directory import Directory
from hostdesk_cli.ids import PLACEHOLDER, now
from hostdesk_cli.session import session_of

app = typer.Typer(help="Support addresses: where an organisation receives support mail.")

SCHEMES = {
    "imap": (MailboxProtocol.IMAP, MailboxSecurity.NONE),
    "imaps": (MailboxProtocol.IMAP, MailboxSecurity.TLS),
    "imap+starttls": (MailboxProtocol.IMAP, MailboxSecurity.STARTTLS),
    "pop3": (MailboxProtocol.POP3, MailboxSecurity.NONE),
    "pop3s": (MailboxProtocol.POP3, MailboxSecurity.TLS),
    "pop3+starttls": (MailboxProtocol.POP3, MailboxSecurity.STARTTLS),
}
KEYS_SETTING = "INTAKE_MAILBOX_KEYS"


def mailbox_of(url: str, *, password_sealed: str, interval: int) -> MailboxRecord:
    """The mailbox a URL names (``typer.BadParameter`` saying what is wrong with it)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise typer.BadParameter(f"the scheme is one of {', '.join(SCHEMES)}", param_hint="--mailbox")
    protocol, security = SCHEMES[parts.scheme.lower()]
    if not parts.hostname or not parts.username:
        raise typer.BadParameter("a mailbox URL names its user and server: imaps://user@host/", param_hint="--mailbox")
    try:
        port = parts.port or default_port(protocol, security)
        return MailboxRecord(
            protocol=protocol,
            host=parts.hostname,
            port=port,
            security=security,
            username=unquote(parts.username),
            password_sealed=password_sealed,
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            interval_seconds=interval,
        )
    except (ValueError, ValidationError) as error:
        raise typer.BadParameter(str(error).splitlines()[-1].strip(), param_hint="--mailbox") from error


STANDARD_INPUT = "-"


def _sealed(source: str) -> str:
    try:
        text = sys.stdin.read() if source == STANDARD_INPUT else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"the file cannot be read: {error}", param_hint="--password-file") from error
    password = text.rstrip("\r\n")
    if not password:
        raise typer.BadParameter("the file holds no password", param_hint="--password-file")
    try:
        return _sealer().seal(password)
    except NoSealingKey as error:
        raise typer.BadParameter(f"set {KEYS_SETTING} as intake has it", param_hint="--password-file") from error
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=KEYS_SETTING) from error


def _sealer() -> Sealer:
    return Sealer.of_setting(os.environ.get(KEYS_SETTING, ""))


def _resealed(token: str) -> str:
    """The password held, sealed anew under the first key (how keys are rotated)."""
    try:
        return _sealer().rotate(token)
    except NoSealingKey as error:
        raise typer.BadParameter(f"set {KEYS_SETTING} as intake has it", param_hint="--mailbox") from error
    except SealBroken as error:
        raise typer.BadParameter(f"{error}: give the password again", param_hint="--password-file") from error


@app.command("put")
def put(
    context: typer.Context,
    address: str = typer.Argument(..., metavar="ADDRESS", help="e.g. support@example.com"),
    organisation: str = typer.Option(..., help="The organisation that handles its mail."),
    department: str | None = typer.Option(None, help="The department its tickets land in."),
    retired: bool = typer.Option(False, "--retired", help="Take no more mail at it (it stays the organisation's)."),
    mailbox: str | None = typer.Option(None, help="The mailbox intake polls, e.g. imaps://user%40example.com@host/"),
    password_file: str | None = typer.Option(None, help="A file holding the mailbox's password ('-': standard input)."),
    interval: int = typer.Option(60, min=10, max=3_600, help="Seconds between two polls of the mailbox."),
    no_mailbox: bool = typer.Option(False, "--no-mailbox", help="Stop polling the mailbox it has."),
    command_id: str | None = command_id_option(),
) -> None:
    """Receive support mail at ADDRESS for an organisation, or change its department or its mailbox."""
    session = session_of(context)
    sealed = _sealed(password_file) if password_file is not None else None
    try:
        record = SupportAddressRecord(
            address=address, organisation_id=organisation, department=department, retired=retired
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise typer.BadParameter(str(first["msg"]), param_hint=".".join(str(each) for each in first["loc"])) from error

    polled: list[MailboxRecord] = []

    async def work(directory: Directory) -> int | None:
        current = await directory.get(record_key(record))
        held = current if isinstance(current, SupportAddressRecord) else None
        kept = held.mailbox if held is not None else None
        box: MailboxRecord | None = None if no_mailbox else kept
        if mailbox is not None and not no_mailbox:
            given = mailbox_of(mailbox, password_sealed=sealed or "-", interval=interval)
            same_login = kept is not None and given.same_login(kept)
            if sealed is None and not same_login:
                raise typer.BadParameter(
                    "a new mailbox, server or user name needs its password", param_hint="--password-file"
                )
            box = given.model_copy(
                update={"password_sealed": sealed or _resealed(kept.password_sealed if kept else "")}
            )
        polled.extend([box] if box is not None else [])
        command = PutSupportAddress(
            command_id=PLACEHOLDER,
            actor=session.connection.provider(),
            issued_at=now(),
            support_address=record.model_copy(update={"mailbox": box}),
        )
        return (await apply(directory, command, current=held, command_id=command_id)).version

    version = session.run(work)
    said = f"Support address {record.address} of {organisation} (version {version})."
    for box in polled:
        said += f" Its {box.protocol.value.upper()} mailbox {box.username} at {box.host}:{box.port} is polled."
    session.console.print(said)


@app.command("mailbox-key")
def mailbox_key() -> None:
    """Print a new key for INTAKE_MAILBOX_KEYS (put it first to rotate; keep the old one after it for a while)."""
    typer.echo(new_key())
