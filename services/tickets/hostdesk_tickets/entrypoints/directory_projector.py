"""Keeps the directory bucket: the latest record of each id, from the directory's events on the events stream.

- A durable consumer (``directory``) of ``<root>.events.*.directory.>``, through the shared pull-consumer loop.
  Only what the relay signed is projected: a message it did not sign, or one that is no directory event, is
  reported and set aside (terminated; it stays in the stream), never written.
- Each record goes under ``record_key(record)`` as its contract's JSON, never an older version over a newer: the
  version in the stored value is compared, and the write is a compare-and-set on the key's revision (KV
  ``create`` / ``update``), so two replicas projecting at once (a redelivery to another) cannot undo each other.
- An event type of the directory added after this version was built is passed over (acknowledged).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from hostdesk_contracts.directory import (
    DIRECTORY_EVENT_ADAPTER,
    DIRECTORY_EVENT_TYPES,
    Record,
    record_key,
    record_of,
)
from hostdesk_contracts.runtime.consumer import DurableConsumer, PullConsumer
from hostdesk_contracts.signing import EventSigner
from hostdesk_contracts.subjects import Subjects
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError

log = logging.getLogger(__name__)

DURABLE = "directory"
WRITE_ATTEMPTS = 5  # compare-and-set rounds against another writer before the message is handed back


class DirectoryProjector:
    def __init__(
        self, *, js: JetStreamContext, bucket: KeyValue, subjects: Subjects, signer: EventSigner, batch: int = 100
    ) -> None:
        self.bucket = bucket
        self.signer = signer
        self.stopping = asyncio.Event()
        spec = DurableConsumer(
            stream=subjects.events_stream, name=DURABLE, filter_subject=subjects.all_directory_events
        )
        self._loop = PullConsumer(js, spec=spec, handle=self.handle_batch, batch=batch, stopping=self.stopping)

    def stop(self) -> None:
        self.stopping.set()

    async def run(self) -> None:
        await self._loop.run()

    async def handle_batch(self, messages: list[Msg]) -> None:
        """Project each message in stream order (a record's versions come in order), acknowledging each after
        its write. A write that fails raises: the loop hands the batch back, and what was written is not undone."""
        for message in messages:
            read = self._read(message)
            if isinstance(read, SetAside):
                log.error("events stream message on %s set aside: %s", message.subject, read.reason)
                await message.term()
                continue
            if read is not None:
                await self.project(read)
            await message.ack()

    def _read(self, message: Msg) -> Record | SetAside | None:
        """The record a message carries; None for a directory event of a type this version does not know yet."""
        if (refusal := self.signer.refusal(message.subject, message.headers, message.data)) is not None:
            return SetAside(refusal)
        try:
            return record_of(DIRECTORY_EVENT_ADAPTER.validate_json(message.data))
        except ValidationError as error:
            invalid = error
        try:
            event_type = json.loads(message.data).get("type")
        except (ValueError, UnicodeDecodeError, AttributeError):
            event_type = None
        if isinstance(event_type, str) and event_type.startswith("directory.") and event_type not in KNOWN_TYPES:
            log.info("passing over a directory event of unknown type %r on %s", event_type, message.subject)
            return None
        return SetAside(f"no directory event: {invalid.error_count()} errors, first {invalid.errors()[0]['msg']}")

    async def project(self, record: Record) -> bool:
        """Write ``record`` under its key unless the bucket holds it at this version or a later one; True when
        written."""
        key = record_key(record)
        value = record.model_dump_json().encode()
        for _ in range(WRITE_ATTEMPTS):
            try:
                entry = await self.bucket.get(key)
            except KeyNotFoundError:
                entry = None
            try:
                if entry is None:
                    await self.bucket.create(key, value)
                    return True
                if _version_of(entry.value) >= record.version:
                    return False
                await self.bucket.update(key, value, last=entry.revision)
                return True
            except KeyWrongLastSequenceError:
                continue  # another writer came in between: look again
        raise KeyWrongLastSequenceError(description=f"{key} kept changing under the directory projector")


KNOWN_TYPES = frozenset(event_type.model_fields["type"].default for event_type in DIRECTORY_EVENT_TYPES)


@dataclass(frozen=True, slots=True)
class SetAside:
    """A message never to be projected: not signed by the relay, or no directory event at all."""

    reason: str


def _version_of(value: bytes | None) -> int:
    """The version of the record stored as ``value``; 0 when there is none to read (any record is newer)."""
    try:
        version = json.loads(value or b"{}").get("version", 0)
    except (ValueError, UnicodeDecodeError, AttributeError):
        return 0
    return version if isinstance(version, int) else 0
