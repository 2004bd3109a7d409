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

    async def unreachable(self) -> list[str]:
        down = []
        if not await self._read_model.answers():
            down.append("postgresql")
        if not self._nats.is_connected:
            down.append("nats")
        if self._consumer.done():
            down.append("consumer")
        return down
