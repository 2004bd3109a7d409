"""Intake's integration harness: the app served in process, and a stand-in for the tickets service.

The stand-in plays the tickets service's side of the command protocol.
It consumes the commands stream and, for each command, puts its outcome in the outcomes bucket and publishes
it to the message's ``Outcome-Reply-To`` subject, then acknowledges: exactly what the tickets service does.
A closed gate holds commands back, to play a slow tickets service; commands on held tickets are stored but
answered only once released, to play a slow ticket among quick ones.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from uuid import UUID

import httpx
from hostdesk_contracts.commands import COMMAND_ADAPTER, CommandBase, OpenTicket
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.runtime.nats import connect, ensure_streams, outcomes_bucket
from hostdesk_contracts.subjects import REPLY_TO, Subjects
from hostdesk_intake.main import create_app
from hostdesk_intake.settings import Settings
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.kv import KeyValue

Decide = Callable[[CommandBase], CommandOutcome]


def commit(command: CommandBase) -> CommandOutcome:
    """Every command commits: an open at version 1, anything else at version 2."""
    return CommandOutcome.of(
        command,
        ticket_id=command.ticket_id,
        result="committed",
        version=1 if isinstance(command, OpenTicket) else 2,
        number=482913,
    )


class StandIn:
    def __init__(self, nc: Client, outcomes: KeyValue, subjects: Subjects) -> None:
        self.nc, self.outcomes, self.subjects = nc, outcomes, subjects
        self.handled: list[CommandBase] = []
        self.handled_subjects: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.decide: Decide = commit
        self.held_tickets: set[UUID] = set()
        self._withheld: list[tuple[CommandBase, Msg]] = []

    async def run(self) -> None:
        js = self.nc.jetstream()
        subscription = await js.pull_subscribe(
            self.subjects.all_commands, durable="stand-in", stream=self.subjects.commands_stream
        )
        while True:
            try:
                messages = await subscription.fetch(batch=10, timeout=0.5)
            except TimeoutError:  # nats' own, or asyncio's when a fetch ends on its deadline
                continue
            for message in messages:
                await self.gate.wait()
                command = COMMAND_ADAPTER.validate_json(message.data)
                if command.ticket_id in self.held_tickets:
                    self._withheld.append((command, message))
                else:
                    await self._answer(command, message)
                await message.ack()

    async def release(self) -> None:
        """Answer the commands held back so far."""
        withheld, self._withheld = self._withheld, []
        for command, message in withheld:
            await self._answer(command, message)

    async def _answer(self, command: CommandBase, message: Msg) -> None:
        payload = self.decide(command).model_dump_json().encode()
        await self.outcomes.put(command.command_id, payload)
        await self.nc.publish((message.headers or {})[REPLY_TO], payload)
        self.handled.append(command)
        self.handled_subjects.append(message.subject)


@asynccontextmanager
async def stand_in_for_tickets(nats_url: str, subjects: Subjects) -> AsyncIterator[StandIn]:
    nc = await connect(nats_url, name="tickets-stand-in")
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    stand_in = StandIn(nc, await outcomes_bucket(js, subjects), subjects)
    task = asyncio.create_task(stand_in.run())
    try:
        yield stand_in
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await nc.close()


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Intake with its lifespan running (so linked to NATS, or trying to be), reached in process."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client,
    ):
        yield client
