"""The durable pull consumer every service runs on a stream: bind, fetch, hand each batch over, ride out NATS
restarts, stop after the batch in hand.

What a service decides is what to do with a batch (its ``handle``); what they all share is here: the loop, when a
message that cannot be handled yet comes back (``Redelivery``), what a message set aside keeps (``DeadLetter``),
and holding a batch while a dependency is away (``hold``) so that an outage never uses up its deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError

from hostdesk_contracts.runtime.clock import pause
from hostdesk_contracts.runtime.nats import fetch_batch

log = logging.getLogger(__name__)

T = TypeVar("T")

# Deliveries the server makes beyond a message's last one: a delivery can be lost to a pull request that expired
# as it was made (it comes back after the ack wait), and were that the last the server would make, the consumer
# would never see the message again to set it aside. So the server keeps a few more, and the consumer itself sets
# the message aside at its ``max_deliver``-th delivery (``Redelivery.exhausted``).
SPARE_DELIVERIES = 3
_PAUSE_MIN_SECONDS = 0.1
_PAUSE_MAX_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Redelivery:
    """When a message that cannot be handled yet comes again (an event ahead of an earlier one of its ticket),
    and when to give up on it: the delay doubles from ``first_delay`` up to ``max_delay``, and the message is
    set aside at its ``max_deliver``-th delivery."""

    max_deliver: int = 10
    first_delay: float = 0.25
    max_delay: float = 30.0

    def delay(self, deliveries: int) -> float:
        return min(self.first_delay * 2.0 ** max(deliveries - 1, 0), self.max_delay)

    def exhausted(self, deliveries: int) -> bool:
        return deliveries >= self.max_deliver

    @property
    def patience(self) -> float:
        """How long a message that never becomes ready is waited for, from its first delivery to its last."""
        return sum(self.delay(n) for n in range(1, self.max_deliver))


@dataclass(frozen=True, slots=True)
class DurableConsumer:
    """A durable consumer of ``stream``: what it reads, how long a delivery may stay unacknowledged, and when
    a message not ready yet comes again.

    The earlier event a waiting one needs may be unacknowledged in a replica that died: it comes back only after
    ``ack_wait``. A wait shorter than that set aside events whose predecessor was merely late (mail lost after a
    ``kill -9`` of notify), so the redelivery must outlast two ack waits, and a configuration that does not is
    refused at start-up.
    """

    stream: str
    name: str
    filter_subject: str
    ack_wait: float = 30.0
    max_ack_pending: int = 1000
    redelivery: Redelivery = field(default_factory=Redelivery)

    def __post_init__(self) -> None:
        if self.redelivery.patience < 2 * self.ack_wait:
            raise ValueError(
                f"consumer {self.name}: a message not ready yet is waited for {self.redelivery.patience:.1f}s in all, "
                f"less than twice the ack wait ({self.ack_wait:.1f}s) an earlier message may take to come back; "
                "raise the maximum retry delay or the deliveries, or lower the ack wait"
            )

    def config(self) -> ConsumerConfig:
        # No ``backoff`` list on purpose: the server adds it to the delay of every ``nak(delay=...)`` (seen on
        # 2.9 and 2.15), which would stretch the short first retries into minutes.
        return ConsumerConfig(
            name=self.name,
            durable_name=self.name,
            filter_subject=self.filter_subject,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            max_deliver=self.redelivery.max_deliver + SPARE_DELIVERIES,
            max_ack_pending=self.max_ack_pending,
        )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message set aside because it could not be used, kept with its raw bytes so that it can be replayed."""

    stream: str
    stream_seq: int
    subject: str
    headers: Mapping[str, str]
    data: bytes
    error: str
    deliveries: int

    @classmethod
    def of(cls, message: Msg, error: str) -> DeadLetter:
        metadata = message.metadata
        return cls(
            stream=metadata.stream,
            stream_seq=metadata.sequence.stream,
            subject=message.subject,
            headers=dict(message.headers or {}),
            data=message.data,
            error=error,
            deliveries=metadata.num_delivered or 1,
        )


class Held(Protocol):
    async def in_progress(self) -> None: ...


async def hold(
    attempt: Callable[[], Awaitable[T]],
    *,
    held: Sequence[Held],
    unavailable: tuple[type[BaseException], ...],
    stopping: asyncio.Event,
    max_delay: float = 5.0,
    what: str = "a dependency",
) -> T:
    """Try ``attempt`` until it no longer fails with one of ``unavailable`` (a database away), telling the
    ``held`` messages meanwhile that they are in progress, so that an outage neither uses up their deliveries
    nor hands them to another replica. When asked to stop meanwhile the last error is raised: the messages
    then come back, to some replica, once their ack wait is over."""
    delay = 0.1
    while True:
        try:
            return await attempt()
        except unavailable as error:
            if stopping.is_set():
                raise
            log.warning("%s is unavailable, holding %d messages: %r", what, len(held), error)
        for message in held:
            with contextlib.suppress(nats.errors.Error):
                await message.in_progress()
        await pause(stopping, delay)
        delay = min(delay * 2, max_delay)


BatchHandler = Callable[[list[Msg]], Awaitable[None]]


class PullConsumer:
    """Binds ``spec`` (created when missing, kept as it is when the server will not change it) and hands
    every fetched batch to ``handle`` until stopped. NATS away pauses the loop, with a growing pause; it never
    ends it. A batch whose handling fails unexpectedly is handed back (``nak``) and the loop goes on: the
    messages come again and, after their deliveries, stay in the stream."""

    def __init__(
        self,
        js: JetStreamContext,
        *,
        spec: DurableConsumer,
        handle: BatchHandler,
        batch: int,
        fetch_wait: float = 1.0,
        stopping: asyncio.Event | None = None,
        config: ConsumerConfig | None = None,
    ) -> None:
        """``config``: the consumer's configuration when it differs from ``spec``'s (a start sequence)."""
        self._js = js
        self._spec = spec
        self._config = config or spec.config()
        self._handle = handle
        self._batch = batch
        self._fetch_wait = fetch_wait
        self._stopping = stopping or asyncio.Event()
        self._pause = _PAUSE_MIN_SECONDS

    def stop(self) -> None:
        """Fetch no more; the batch in hand is finished first."""
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                subscription = await self._bind()
                try:
                    await self._pump(subscription)
                finally:
                    with contextlib.suppress(nats.errors.Error):
                        await subscription.unsubscribe()  # a pull subscription left open holds up the drain
            except (nats.errors.Error, TimeoutError) as error:
                log.warning("consumer %s paused for %.1fs: %r", self._spec.name, self._pause, error)
                await pause(self._stopping, self._pause)
                self._pause = min(self._pause * 2, _PAUSE_MAX_SECONDS)

    async def _bind(self) -> JetStreamContext.PullSubscription:
        try:
            await self._js.add_consumer(self._spec.stream, self._config)
        except BadRequestError as error:
            log.warning("keeping consumer %s as it is: %s", self._spec.name, error)
        return await self._js.pull_subscribe_bind(consumer=self._spec.name, stream=self._spec.stream)

    async def _pump(self, subscription: JetStreamContext.PullSubscription) -> None:
        while not self._stopping.is_set():
            messages = await fetch_batch(subscription, batch=self._batch, wait=self._fetch_wait)
            if not messages:
                continue
            self._pause = _PAUSE_MIN_SECONDS
            try:
                await self._handle(messages)
            except Exception:  # a bug must not stop the consumer: the batch comes back and is tried again
                log.exception("consumer %s: a batch of %d messages failed", self._spec.name, len(messages))
                for message in messages:
                    with contextlib.suppress(nats.errors.Error):
                        await message.nak(delay=2.0)
