"""Readiness: does PostgreSQL answer, is NATS connected, is the consumer still running."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client

from hostdesk_query.adapters.postgres import PostgresReadModel


class ServerHealth:
    def __init__(self, read_model: PostgresReadModel, nats: Client, consumer: asyncio.Task[None]) -> None:
        self._read_model = read_model
        self._nats = nats
        self._consumer = consumer

    async def unready_reasons(self) -> list[str]:
        reasons = []
        if not await self._read_model.answers():
            reasons.append("PostgreSQL does not answer")
        if not self._nats.is_connected:
            reasons.append("NATS is not connected")
        if self._consumer.done():
            reasons.append("the consumer has stopped")
        return reasons
