"""The port through which intake publishes support mail received and what became of it, and its NATS adapter: the
stream ``<ROOT>_MAIL`` (declared by the tickets service, written and read by intake alone).

A message received is published with the id ``<tenant>.<mail id>.<digest of its recipients>.received``: the same
bytes to the same tenant and addresses received again within JetStream's duplicate window (an MTA that did not hear
the ``250`` and sends again, a mailbox fetched again) are one message of the stream; the same bytes delivered to two
mailboxes are two, each logged with its address, which make one post. Past the window, the mail consumer's commands,
whose ids derive from the message's identity, make the same post once. An outcome is published under
``<tenant>.<mail id>.<result>.<delivery>``, so that a replay is a new entry of the log and a redelivery of the same
processing is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hostdesk_contracts.mail import MailOutcome, MailReceived, MailResult
from hostdesk_contracts.runtime.nats import fetch_batch
from hostdesk_contracts.subjects import MSG_ID, Subjects
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from hostdesk_intake.adapters.command_bus import BusUnavailable


class MailStreamUnavailable(BusUnavailable):
    """The mail stream cannot be written now: the message is not received (the MTA is told to try again)."""


class MailStream(Protocol):
    async def received(self, mail: MailReceived, *, again: str | None = None) -> None:
        """Publish ``mail`` once its raw bytes are stored; ``again`` names a replay, published even within the
        duplicate window. Raises ``MailStreamUnavailable``."""
        ...

    async def decided(self, outcome: MailOutcome, *, delivery: str) -> None:
        """Publish what became of a mail; ``delivery`` tells one processing from another (a replay). Raises
        ``MailStreamUnavailable``."""
        ...

    async def entries(self, tenant: str, result: MailResult, *, after: int, limit: int) -> list[Entry]:
        """The log's entries of ``result`` in ``tenant`` after the stream sequence ``after``, oldest first, at most
        ``limit``. Raises ``MailStreamUnavailable``."""
        ...

    async def entry(self, tenant: str, sequence: int) -> Entry | None:
        """The log's entry at ``sequence``, ``None`` when it is none of ``tenant``'s outcomes. Raises
        ``MailStreamUnavailable``."""
        ...


@dataclass(frozen=True)
class Entry:
    sequence: int  # on the mail stream: the entry's id
    outcome: MailOutcome


class MemoryMailStream:
    """The mail published, in lists, for unit tests."""

    def __init__(self) -> None:
        self.mail: list[MailReceived] = []
        self.outcomes: list[MailOutcome] = []
        self._ids: set[str] = set()

    async def received(self, mail: MailReceived, *, again: str | None = None) -> None:
        if (key := _received_id(mail, again)) not in self._ids:
            self._ids.add(key)
            self.mail.append(mail)

    async def decided(self, outcome: MailOutcome, *, delivery: str) -> None:
        if (key := f"{outcome.tenant}.{outcome.mail_id}.{outcome.result}.{delivery}") not in self._ids:
            self._ids.add(key)
            self.outcomes.append(outcome)

    async def entries(self, tenant: str, result: MailResult, *, after: int, limit: int) -> list[Entry]:
        found = [
            Entry(sequence=number, outcome=outcome)
            for number, outcome in enumerate(self.outcomes, start=1)
            if outcome.tenant == tenant and outcome.result is result and number > after
        ]
        return found[:limit]

    async def entry(self, tenant: str, sequence: int) -> Entry | None:
        if 1 <= sequence <= len(self.outcomes) and self.outcomes[sequence - 1].tenant == tenant:
            return Entry(sequence=sequence, outcome=self.outcomes[sequence - 1])
        return None


class NatsMailStream:
    """The mail stream over a connection intake has made already (the command bus's)."""

    def __init__(self, connection: Callable[[], Client | None], *, subjects: Subjects, timeout: float) -> None:
        self._connection = connection
        self._subjects = subjects
        self._timeout = timeout

    async def received(self, mail: MailReceived, *, again: str | None = None) -> None:
        subject = self._subjects.mail(mail.tenant, "received")
        await self._publish(subject, mail.model_dump_json().encode(), _received_id(mail, again))

    async def decided(self, outcome: MailOutcome, *, delivery: str) -> None:
        subject = self._subjects.mail(outcome.tenant, outcome.result.value)
        message_id = f"{outcome.tenant}.{outcome.mail_id}.{outcome.result.value}.{delivery}"
        await self._publish(subject, outcome.model_dump_json().encode(), message_id)

    async def entries(self, tenant: str, result: MailResult, *, after: int, limit: int) -> list[Entry]:
        """Read through a consumer of the log's subject of its own, started after ``after`` and dropped after."""
        js = self._js()
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=after + 1,
            ack_policy=AckPolicy.EXPLICIT,  # a pull consumer's (2.9 refuses none); never acknowledged: dropped after
            inactive_threshold=30.0,
        )
        entries: list[Entry] = []
        try:
            async with asyncio.timeout(self._timeout * 4):
                subscription = await js.pull_subscribe(
                    self._subjects.mail(tenant, result.value), stream=self._subjects.mail_stream, config=config
                )
                try:
                    while len(entries) < limit:
                        messages = await fetch_batch(subscription, batch=min(100, limit - len(entries)), wait=0.2)
                        if not messages:
                            break
                        entries += [each for message in messages if (each := _entry(message)) is not None]
                finally:
                    with contextlib.suppress(NatsError):
                        await subscription.unsubscribe()
        except (NatsError, TimeoutError) as error:
            raise MailStreamUnavailable(f"the mail log cannot be read ({type(error).__name__})") from error
        return entries[:limit]

    async def entry(self, tenant: str, sequence: int) -> Entry | None:
        js = self._js()
        try:
            async with asyncio.timeout(self._timeout):
                message = await js.get_msg(self._subjects.mail_stream, seq=sequence)
        except NotFoundError:
            return None
        except (NatsError, TimeoutError) as error:
            raise MailStreamUnavailable(f"the mail log cannot be read ({type(error).__name__})") from error
        if not (message.subject or "").startswith(f"{self._subjects.root}.mail.{tenant}."):
            return None
        try:
            outcome = MailOutcome.model_validate_json(message.data or b"")
        except ValidationError:
            return None  # a mail received, not what became of it
        return Entry(sequence=sequence, outcome=outcome) if outcome.tenant == tenant else None

    def _js(self) -> JetStreamContext:
        connection = self._connection()
        if connection is None or not connection.is_connected:
            raise MailStreamUnavailable("NATS is not reachable")
        return connection.jetstream(timeout=self._timeout)

    async def _publish(self, subject: str, data: bytes, message_id: str) -> None:
        connection = self._connection()
        if connection is None or not connection.is_connected:
            raise MailStreamUnavailable("NATS is not reachable")
        try:
            async with asyncio.timeout(self._timeout):
                await connection.jetstream(timeout=self._timeout).publish(
                    subject, data, headers={MSG_ID: message_id}, stream=self._subjects.mail_stream
                )
        except (NatsError, TimeoutError) as error:
            raise MailStreamUnavailable(f"the mail stream cannot be written ({type(error).__name__})") from error


def _entry(message: Msg) -> Entry | None:
    try:
        return Entry(sequence=message.metadata.sequence.stream, outcome=MailOutcome.model_validate_json(message.data))
    except ValidationError:
        return None


def _received_id(mail: MailReceived, again: str | None) -> str:
    recipients = hashlib.sha256("\n".join(mail.recipients).encode()).hexdigest()[:16]
    base = f"{mail.tenant}.{mail.mail_id}.{recipients}.received"
    return base if again is None else f"{base}.again.{again}"
