"""Intake's consumer of support mail received (``<root>.mail.*.received``, the durable consumer ``mail``): each
message is made into what it is (``MailProcessor``). The messages of a fetched batch from one envelope sender are
handled one after the other, in the order received; those of different senders at the same time, so that the round
trips of one mail (its guest account, its ticket) do not wait on another's.

A message is acknowledged once what became of it is published. One that cannot be handled now (NATS or the
directory away, a command not decided yet) comes again with a growing delay, and is never quarantined for it: an
outage delays mail and loses none. A message on the stream that is no ``MailReceived`` is set aside (terminated:
it stays in the stream) with a log line; a bug while processing one message quarantines that message (see
``MailProcessor``) and the consumer goes on.
"""

from __future__ import annotations

import asyncio
import logging

from hostdesk_contracts.mail import MailReceived
from hostdesk_contracts.runtime.consumer import DurableConsumer, PullConsumer, Redelivery
from hostdesk_contracts.subjects import Subjects
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import ValidationError

from hostdesk_intake.service_layer.mail_processing import MailProcessor, TryLater

log = logging.getLogger(__name__)

DURABLE = "mail"
# An outage is ridden out for about an hour of redeliveries before a message waits for the next start.
REDELIVERY = Redelivery(max_deliver=200, first_delay=0.5, max_delay=30.0)


# Messages fetched at once, and so handled at once at most.
BATCH = 32


def by_sender(messages: list[Msg]) -> list[list[Msg]]:
    """The messages grouped by tenant and envelope sender (``return_path``), each group in stream order. A message
    whose sender is unknown (fetched from a mailbox) or that is no ``MailReceived`` is a group of its own."""
    groups: dict[str, list[Msg]] = {}
    for message in messages:
        try:
            received = MailReceived.model_validate_json(message.data)
        except ValidationError:
            key = f"message:{id(message)}"
        else:
            key = f"{received.tenant}\n{received.return_path}" if received.return_path else f"mail:{id(message)}"
        groups.setdefault(key, []).append(message)
    return list(groups.values())


class MailConsumer:
    def __init__(
        self, *, js: JetStreamContext, subjects: Subjects, processor: MailProcessor, batch: int = BATCH
    ) -> None:
        self._processor = processor
        self.stopping = asyncio.Event()
        spec = DurableConsumer(
            stream=subjects.mail_stream,
            name=DURABLE,
            filter_subject=subjects.all_mail_received,
            redelivery=REDELIVERY,
        )
        self._loop = PullConsumer(js, spec=spec, handle=self.handle_batch, batch=batch, stopping=self.stopping)

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        await self._loop.run()

    async def handle_batch(self, messages: list[Msg]) -> None:
        await asyncio.gather(*(self._in_order(same) for same in by_sender(messages)))

    async def _in_order(self, messages: list[Msg]) -> None:
        for message in messages:
            await self.handle(message)

    async def handle(self, message: Msg) -> None:
        try:
            received = MailReceived.model_validate_json(message.data)
        except ValidationError as error:
            log.error(
                "mail stream message on %s set aside: not a received mail (%d errors)",
                message.subject,
                error.error_count(),
            )
            await message.term()
            return
        deliveries = message.metadata.num_delivered
        try:
            await self._processor.process(received, delivery=f"s{message.metadata.sequence.stream}")
        except TryLater as later:
            delay = REDELIVERY.delay(deliveries)
            log.info("mail %s of %s comes again in %.1fs: %s", received.mail_id, received.tenant, delay, later)
            await message.nak(delay=delay)
            return
        await message.ack()
