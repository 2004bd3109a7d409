"""One run of the command line: its connection settings, how it reaches the directory, and where it prints.

Every command takes the ``Session`` from typer's context and runs its work through ``Session.run``, the one
place where a failure becomes a message and an exit status (see ``outcomes``). Tests give ``Wiring`` as the
context object to put a fake directory in place of NATS.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from hostdesk_cli.connection import Connection, SettingError
from hostdesk_cli.directory import Directory, DirectoryOpener, Unreachable
from hostdesk_cli.nats_directory import nats_directory
from hostdesk_cli.outcomes import REFUSED, UNREACHABLE, CommandFailed

T = TypeVar("T")


@dataclass(frozen=True)
class Wiring:
    open_directory: DirectoryOpener = nats_directory
    console: Console = field(default_factory=Console)
    errors: Console = field(default_factory=lambda: Console(stderr=True))


@dataclass(frozen=True)
class Session:
    connection: Connection
    wiring: Wiring

    @property
    def console(self) -> Console:
        return self.wiring.console

    def run(self, work: Callable[[Directory], Awaitable[T]]) -> T:
        """``work`` on the installation's directory; a failure is printed and ends the run with its status."""

        async def on_directory() -> T:
            async with self.wiring.open_directory(self.connection) as directory:
                return await work(directory)

        return self.guarded(lambda: asyncio.run(on_directory()))

    def guarded(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except CommandFailed as failure:
            self.fail(failure.message, exit_code=failure.exit_code)
        except SettingError as error:
            self.fail(str(error), exit_code=REFUSED)
        except Unreachable as error:
            self.fail(f"Nothing was sent: {error}", exit_code=UNREACHABLE)

    def fail(self, message: str, *, exit_code: int) -> NoReturn:
        self.wiring.errors.print(message, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exit_code)


def session_of(context: typer.Context) -> Session:
    session = context.find_object(Session)
    assert session is not None, "the hostdesk callback makes the session"
    return session
