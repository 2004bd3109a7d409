"""Consumes ticket commands from JetStream, applies each once, and answers with its outcome.

Delivery is at least once; applying is exactly once because every event records its command id and a
ticket opened twice has one id. The outcome goes to the waiting intake instance (core NATS) and to the
outcomes bucket for callers that come back later; the message is acknowledged only after both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from eventsourcing.persistence import PersistenceError
from hostdesk_contracts.commands import COMMAND_ADAPTER, AnyCommand
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.runtime.nats import fetch_batch
from hostdesk_contracts.subjects import REPLY_TO, Subjects
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from hostdesk_tickets.application import TicketsApplication, refused_not_found
from hostdesk_tickets.domain.errors import TicketNotFound
from hostdesk_tickets.settings import Settings

log = logging.getLogger(__name__)

DURABLE = "tickets"


class CommandConsumer:
    def __init__(
        self,
        *,
        app: TicketsApplication,
        nc: Client,
        js: JetStreamContext,
        outcomes: KeyValue,
        subjects: Subjects,
        settings: Settings,
    ) -> None:
        self.app = app
        self.nc = nc
        self.js = js
        self.outcomes = outcomes
        self.subjects = subjects
        self.settings = settings
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        while not self.stopping.is_set():
            subscription = await self._subscribe()
            try:
                await self._consume(subscription)
            except Exception:
                log.exception("the commands consumer failed; starting it again")
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(NatsError):
                    await subscription.unsubscribe()  # a pull subscription left open holds up the drain

    async def _consume(self, subscription: JetStreamContext.PullSubscription) -> None:
        while not self.stopping.is_set():
            try:
                messages = await fetch_batch(subscription, batch=self.settings.command_batch, wait=1)
            except NatsError as error:
                log.warning("fetching commands failed (%s); retrying", error)
                await asyncio.sleep(0.5)
                continue
            if not messages:
                continue
            try:
                await self.handle_batch(messages)
            except Exception:
                # A bug or an unforeseen failure must not stop the consumer: the messages come back later and,
                # after max_deliver attempts, stay in the stream for staff to look at.
                log.exception("a batch of %d commands failed", len(messages))
                for message in messages:
                    with contextlib.suppress(NatsError):
                        await message.nak(delay=2)

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        config = ConsumerConfig(
            durable_name=DURABLE,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=30,
            max_deliver=self.settings.command_max_deliver,
            max_ack_pending=1000,
        )
        while True:
            try:
                return await self.js.pull_subscribe(
                    self.subjects.all_commands, durable=DURABLE, stream=self.subjects.commands_stream, config=config
                )
            except NatsError as error:
                log.warning("cannot bind the commands consumer yet (%s)", error)
                await asyncio.sleep(0.5)

    async def handle_batch(self, messages: list[Msg]) -> None:
        """Apply a fetched batch in order, in one event-store transaction, then answer every command."""
        carriers: list[tuple[Msg, AnyCommand]] = []
        for message in messages:
            try:
                carriers.append((message, COMMAND_ADAPTER.validate_json(message.data)))
            except ValidationError as error:
                # The message stays in the commands stream (kept a week) for staff to inspect and replay.
                seq = message.metadata.sequence.stream
                log.error("command at stream seq %s is malformed, set aside: %s", seq, error)
                await message.term()
        carriers = await self._already_decided(carriers)
        if not carriers:
            return
        try:
            results = await asyncio.to_thread(self.app.handle_batch, [command for _, command in carriers])
        except PersistenceError as error:
            log.warning("event store unavailable for %d commands (%s); will retry", len(carriers), error)
            for message, _ in carriers:
                await message.nak(delay=1)
            return
        answers = []
        for (message, command), result in zip(carriers, results, strict=True):
            outcome = await self._missing_ticket(message, command) if isinstance(result, TicketNotFound) else result
            if outcome is not None:
                answers.append(self._answer(message, outcome))
        await asyncio.gather(*answers)  # the outcome writes of a batch travel together

    async def _already_decided(self, carriers: list[tuple[Msg, AnyCommand]]) -> list[tuple[Msg, AnyCommand]]:
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

    async def _missing_ticket(self, message: Msg, command: AnyCommand) -> CommandOutcome | None:
        """A command can overtake the open of its ticket on another replica: wait a little, then refuse."""
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
