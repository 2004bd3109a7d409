"""Keeps the threads bucket (``<ROOT>_THREADS``): which ticket a number names, for mail that names it.

A durable consumer (``threads``) of the tickets opened, imported and merged (``<root>.events.*.opened.*``,
``...imported.*`` and ``...merged.*``), through the shared pull-consumer loop; only what the relay signed is projected.

- an opened ticket: ``<tenant>.<number>`` -> its id, and ``<tenant>.number.<ticket id hex>`` -> its number;
- a ticket merged into another: its number then names the ticket it went into (``<tenant>.<number>`` -> the
  target's id), and ``<tenant>.merged.<ticket id hex>`` -> the target's id, so mail in its thread follows it;
- an imported ticket: its number as an opened one's, and each Message-ID of the mail the previous helpdesk sent
  about it (``<tenant>.message.<digest>``) -> its id, so a reply to that mail lands in it.

Writes are idempotent (a redelivery writes the same values), and a number is only ever moved by a merge: an open
delivered again after its ticket's merge leaves it where the merge put it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hostdesk_contracts.events import TicketImported, TicketMerged, TicketOpened, event_name
from hostdesk_contracts.runtime.consumer import DurableConsumer, PullConsumer
from hostdesk_contracts.signing import EventSigner
from hostdesk_contracts.subjects import (
    Subjects,
    thread_merged_key,
    thread_message_key,
    thread_number_key,
    thread_ticket_number_key,
)
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError

log = logging.getLogger(__name__)

DURABLE = "threads"


def _name_of(subject: str) -> str:
    """``tickets.events.acme.opened.v1`` -> ``opened.v1``."""
    return ".".join(subject.split(".")[-2:])


class ThreadsProjector:
    def __init__(self, *, js: JetStreamContext, bucket: KeyValue, subjects: Subjects, signer: EventSigner) -> None:
        self.bucket = bucket
        self.signer = signer
        self.stopping = asyncio.Event()
        spec = DurableConsumer(
            stream=subjects.events_stream,
            name=DURABLE,
            filter_subject=f"{subjects.root}.events.*.*.*",
        )
        self._opened, self._merged_name = event_name(TicketOpened), event_name(TicketMerged)
        self._imported = event_name(TicketImported)
        self._loop = PullConsumer(js, spec=spec, handle=self.handle_batch, batch=100, stopping=self.stopping)

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        await self._loop.run()

    async def handle_batch(self, messages: list[Msg]) -> None:
        for message in messages:
            if _name_of(message.subject) in (self._opened, self._merged_name, self._imported):
                await self.handle(message)
            await message.ack()

    async def handle(self, message: Msg) -> None:
        if (refusal := self.signer.refusal(message.subject, message.headers, message.data)) is not None:
            log.error("events stream message on %s not projected into threads: %s", message.subject, refusal)
            return
        try:
            if _name_of(message.subject) == self._merged_name:
                merged = TicketMerged.model_validate_json(message.data)
                await self._merged(merged)
            elif _name_of(message.subject) == self._imported:
                imported = TicketImported.model_validate_json(message.data)
                await self._numbered(imported)
                for message_id in imported.message_ids:
                    key = thread_message_key(imported.tenant, message_id)
                    await self.bucket.put(key, str(imported.ticket_id).encode())
            else:
                await self._numbered(TicketOpened.model_validate_json(message.data))
        except ValidationError as error:
            log.error(
                "events stream message on %s is no event threads know: %d errors", message.subject, error.error_count()
            )

    async def _numbered(self, opened: TicketOpened | TicketImported) -> None:
        await self.bucket.put(thread_ticket_number_key(opened.tenant, opened.ticket_id), str(opened.number).encode())
        with contextlib.suppress(KeyWrongLastSequenceError):  # there already: a merge may have moved it since
            await self.bucket.create(thread_number_key(opened.tenant, opened.number), str(opened.ticket_id).encode())

    async def _merged(self, event: TicketMerged) -> None:
        target = str(event.into_ticket_id).encode()
        await self.bucket.put(thread_merged_key(event.tenant, event.ticket_id), target)
        try:
            entry = await self.bucket.get(thread_ticket_number_key(event.tenant, event.ticket_id))
        except KeyNotFoundError:
            return
        number = int((entry.value or b"0").decode() or 0)
        if number:
            await self.bucket.put(thread_number_key(event.tenant, number), target)
