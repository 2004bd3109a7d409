"""The durable pull consumer of the events stream: fetch a batch, hand it over, again; ride out NATS restarts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

import nats.errors
from hostdesk_contracts.runtime.nats import fetch_batch
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError

from hostdesk_query.adapters.ports import Delivery, StoreUnavailable

log = logging.getLogger(__name__)

_PAUSE_MIN_SECONDS = 0.1
_PAUSE_MAX_SECONDS = 5.0


class JetStreamDelivery:
    __slots__ = ("_msg",)

    def __init__(self, msg: Msg) -> None:
        self._msg = msg

    @property
    def data(self) -> bytes:
        return self._msg.data

    @property
    def subject(self) -> str:
        return self._msg.subject

    @property
    def headers(self) -> Mapping[str, str]:
        return self._msg.headers or {}

    @property
    def deliveries(self) -> int:
        return self._msg.metadata.num_delivered or 1

    @property
    def stream_seq(self) -> int | None:
        return self._msg.metadata.sequence.stream

    async def ack(self) -> None:
        await self._msg.ack()

    async def nak(self, delay: float) -> None:
        await self._msg.nak(delay=delay)

    async def term(self) -> None:
        await self._msg.term()

    async def in_progress(self) -> None:
        await self._msg.in_progress()


def consumer_config(
    *, name: str, filter_subject: str, max_deliver: int, ack_wait: float, max_ack_pending: int
) -> ConsumerConfig:
    return ConsumerConfig(
        name=name,
        durable_name=name,
        filter_subject=filter_subject,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=max_deliver,
        max_ack_pending=max_ack_pending,
    )


class EventConsumer:
    def __init__(
        self,
        js: JetStreamContext,
        *,
        stream: str,
        config: ConsumerConfig,
        batch: int,
        fetch_timeout: float,
        handle: Callable[[Sequence[Delivery]], Awaitable[None]],
        stopping: asyncio.Event,
    ) -> None:
        self._js = js
        self._stream = stream
        self._config = config
        self._batch = batch
        self._fetch_timeout = fetch_timeout
        self._handle = handle
        self._stopping = stopping
        self._pause = _PAUSE_MIN_SECONDS

    async def run(self) -> None:
        """Until asked to stop. The batch in hand when asked is finished first."""
        while not self._stopping.is_set():
            try:
                subscription = await self._subscribe()
                try:
                    await self._pull(subscription)
                finally:
                    with contextlib.suppress(nats.errors.Error):
                        await subscription.unsubscribe()
            except (nats.errors.Error, StoreUnavailable, TimeoutError) as error:
                log.warning("consumer %s paused for %.1fs: %r", self._config.durable_name, self._pause, error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self._pause)
                self._pause = min(self._pause * 2, _PAUSE_MAX_SECONDS)

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        try:
            await self._js.add_consumer(self._stream, self._config)
        except BadRequestError as error:
            # The consumer exists with a configuration this server will not change: use it as it is.
            log.warning("keeping consumer %s as it is: %s", self._config.durable_name, error)
        return await self._js.pull_subscribe_bind(consumer=self._config.durable_name, stream=self._stream)

    async def _pull(self, subscription: JetStreamContext.PullSubscription) -> None:
        while not self._stopping.is_set():
            messages = await fetch_batch(subscription, batch=self._batch, wait=self._fetch_timeout)
            if not messages:
                continue
            self._pause = _PAUSE_MIN_SECONDS
            await self._handle([JetStreamDelivery(message) for message in messages])
