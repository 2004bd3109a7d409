"""Consumes ticket and directory commands from JetStream, applies each once, and answers with its outcome.

Delivery is at least once; applying is exactly once because every event records its command id and a
ticket opened twice has one id (a directory record's id is its key's). The outcome goes to the waiting intake
instance (core NATS) and to the outcomes bucket for callers that come back later; the message is acknowledged
only after both. Directory commands travel on ``<root>.commands.<tenant>.directory.<command>``, through the
same rules: decoded as directory commands, addressed to their actor's tenant, answered once.

Before a batch is decided, what the directory says of each ticket command is looked up (``service_layer.lookups``,
from the directory bucket held in memory); a directory that cannot be read holds the batch, as the event store
away does.
"""

from __future__ import annotations

import asyncio
import logging

from eventsourcing.persistence import PersistenceError
from hostdesk_contracts.base import Role
from hostdesk_contracts.commands import COMMAND_ADAPTER
from hostdesk_contracts.directory import DIRECTORY_COMMAND_ADAPTER, DirectoryCommand
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.runtime.consumer import DurableConsumer, PullConsumer, Redelivery, hold
from hostdesk_contracts.runtime.directory import Directory, DirectoryUnavailable
from hostdesk_contracts.subjects import REPLY_TO, Subjects
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from hostdesk_tickets.domain.errors import TicketNotFound
from hostdesk_tickets.service_layer.application import Command, TicketsApplication, refused_not_found
from hostdesk_tickets.service_layer.lookups import look_up_all
from hostdesk_tickets.settings import Settings

log = logging.getLogger(__name__)

DURABLE = "tickets"


class CommandConsumer:
    """The durable consumer ``tickets`` of the commands stream, through the shared pull-consumer loop."""

    def __init__(
        self,
        *,
        app: TicketsApplication,
        nc: Client,
        js: JetStreamContext,
        outcomes: KeyValue,
        directory: Directory,
        subjects: Subjects,
        settings: Settings,
    ) -> None:
        self.app = app
        self.directory = directory
        self.nc = nc
        self.outcomes = outcomes
        self.subjects = subjects
        self.settings = settings
        self.stopping = asyncio.Event()
        spec = DurableConsumer(
            stream=subjects.commands_stream,
            name=DURABLE,
            filter_subject=subjects.all_commands,
            redelivery=Redelivery(max_deliver=settings.command_max_deliver),
        )
        self._loop = PullConsumer(
            js, spec=spec, handle=self.handle_batch, batch=settings.command_batch, stopping=self.stopping
        )

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        await self._loop.run()

    async def handle_batch(self, messages: list[Msg]) -> None:
        """Apply a fetched batch in order, in one event-store transaction, then answer every command."""
        carriers: list[tuple[Msg, Command]] = []
        for message in messages:
            try:
                command = self._decode(message)
            except ValidationError as error:
                # The message stays in the commands stream (kept a week) for staff to inspect and replay.
                seq = message.metadata.sequence.stream
                log.error("command at stream seq %s is malformed, set aside: %s", seq, error)
                await message.term()
                continue
            if (refusal := self._misaddressed(message, command)) is not None:
                log.error("command at stream seq %s refused, set aside: %s", message.metadata.sequence.stream, refusal)
                await message.term()
                continue
            carriers.append((message, command))
        carriers = await self._already_decided(carriers)
        if not carriers:
            return
        commands = [command for _, command in carriers]
        held = [message for message, _ in carriers]
        tickets = [command for command in commands if not isinstance(command, DirectoryCommand)]
        try:
            # The directory or the event store away: the batch is held, so an outage never uses up the commands'
            # deliveries.
            facts = await hold(
                lambda: look_up_all(tickets, self.directory),
                held=held,
                unavailable=(DirectoryUnavailable,),
                stopping=self.stopping,
                what="the directory",
            )
            results = await hold(
                lambda: asyncio.to_thread(self.app.handle_batch, commands, facts),
                held=held,
                unavailable=(PersistenceError,),
                stopping=self.stopping,
                what="the event store",
            )
        except (DirectoryUnavailable, PersistenceError):
            return  # stopping: the commands come back after their ack wait
        answers = []
        for (message, command), result in zip(carriers, results, strict=True):
            outcome = await self._missing_ticket(message, command) if isinstance(result, TicketNotFound) else result
            if outcome is not None:
                answers.append(self._answer(message, outcome))
        await asyncio.gather(*answers)  # the outcome writes of a batch travel together

    def _decode(self, message: Msg) -> Command:
        """The command a message holds, read as a directory command when it travels on a directory subject."""
        after_tenant = message.subject.removeprefix(f"{self.subjects.root}.commands.").partition(".")[2]
        if after_tenant.startswith("directory."):
            return DIRECTORY_COMMAND_ADAPTER.validate_json(message.data)
        return COMMAND_ADAPTER.validate_json(message.data)

    def _misaddressed(self, message: Msg, command: Command) -> str | None:
        """Why a command may not be applied as it came, or None. Intake publishes each command on its actor's
        tenant's subject, as itself, never as the product: a command whose subject names another tenant, or
        of the product's own role (only this service acts as the product, without NATS), came from elsewhere."""
        if message.subject != self.subjects.command(command):
            return f"its subject {message.subject!r} is not its actor's ({self.subjects.command(command)!r})"
        if command.actor.role is Role.SYSTEM:
            return "a command by the product itself does not travel on NATS"
        return None

    async def _already_decided(self, carriers: list[tuple[Msg, Command]]) -> list[tuple[Msg, Command]]:
        """Answer a command delivered again with the outcome stored the first time, without deciding it again.

        A committed command is recognised by its ticket anyway; a refused one records nothing there, and deciding
        it again later could accept what was refused (a rating refused on an open ticket, delivered again once the
        ticket is resolved). Only a redelivery costs this look-up."""
        redelivered = [(message, command) for message, command in carriers if message.metadata.num_delivered > 1]
        if not redelivered:
            return carriers
        stored = await asyncio.gather(*(self._stored_outcome(command.command_id) for _, command in redelivered))
        answered = {id(message) for (message, _), outcome in zip(redelivered, stored, strict=True) if outcome}
        await asyncio.gather(
            *(
                self._answer(message, outcome)
                for (message, _), outcome in zip(redelivered, stored, strict=True)
                if outcome is not None
            )
        )
        return [(message, command) for message, command in carriers if id(message) not in answered]

    async def _stored_outcome(self, command_id: str) -> CommandOutcome | None:
        try:
            entry = await self.outcomes.get(command_id)
        except KeyNotFoundError:
            return None
        if entry.value is None:
            return None
        return CommandOutcome.model_validate_json(entry.value)

    async def _missing_ticket(self, message: Msg, command: Command) -> CommandOutcome | None:
        """A command can overtake the open of its ticket on another replica: wait a little, then refuse."""
        if isinstance(command, DirectoryCommand):
            raise TypeError("a directory command names no ticket")
        deliveries = message.metadata.num_delivered
        if deliveries <= self.settings.missing_ticket_retries:
            await message.nak(delay=0.2 * deliveries)
            return None
        return refused_not_found(command)

    async def _answer(self, message: Msg, outcome: CommandOutcome) -> None:
        payload = outcome.model_dump_json().encode()
        try:
            await self.outcomes.put(outcome.command_id, payload)
            reply_to = (message.headers or {}).get(REPLY_TO)
            if reply_to:
                await self.nc.publish(reply_to, payload)
            await message.ack()
        except NatsError as error:
            log.warning("could not answer command %s (%s); it will be redelivered", outcome.command_id, error)
