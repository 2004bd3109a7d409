"""The outbox sender's loop: woken by the events consumer once it has queued mail, and sweeping every interval."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from hostdesk_notify.service_layer.sender import BATCH, OutboxSender

log = logging.getLogger(__name__)


class SendLoop:
    """Sends as soon as it is woken (right after the consumer commits mails), and sweeps every interval
    for anything still pending: retries that came due, or mails another replica queued."""

    def __init__(self, sender: OutboxSender, *, sweep_interval: float) -> None:
        self._sender = sender
        self._sweep_interval = sweep_interval
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                if await self._sender.send_due(limit=BATCH) == BATCH:
                    continue  # more may be due: no pause
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("outbox unreachable, sweeping again in %.1fs: %s", self._sweep_interval, error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._sweep_interval)
