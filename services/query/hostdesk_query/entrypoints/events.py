"""The ticket events query reads: a fresh read model catches up in bulk first (``catchup``), then the durable
consumer takes over where the catch-up stopped and hands each fetched batch to the projector."""

from __future__ import annotations

import asyncio

from hostdesk_contracts.runtime.consumer import DurableConsumer, PullConsumer
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from hostdesk_query.adapters.jetstream import JetStreamDelivery
from hostdesk_query.entrypoints.catchup import CatchUp
from hostdesk_query.service_layer.projector import Projector


class TicketEvents:
    def __init__(
        self,
        js: JetStreamContext,
        *,
        catch_up: CatchUp,
        projector: Projector,
        spec: DurableConsumer,
        batch: int,
        fetch_wait: float,
        stopping: asyncio.Event,
    ) -> None:
        self._js = js
        self._catch_up = catch_up
        self._projector = projector
        self._spec = spec
        self._batch = batch
        self._fetch_wait = fetch_wait
        self._stopping = stopping

    async def run(self) -> None:
        """Catch up, then consume until ``stopping`` is set; the batch in hand is finished first."""
        config = await self._catch_up.run()
        if config is None:
            return
        consumer = PullConsumer(
            self._js,
            spec=self._spec,
            config=config,
            handle=self._project,
            batch=self._batch,
            fetch_wait=self._fetch_wait,
            stopping=self._stopping,
        )
        await consumer.run()

    async def _project(self, messages: list[Msg]) -> None:
        await self._projector.handle([JetStreamDelivery(message) for message in messages])
