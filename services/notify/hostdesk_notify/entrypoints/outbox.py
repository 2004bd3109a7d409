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
    for anything still pending: retries that came due, or mails another replica queued. ``concurrency`` senders
    claim and send at once (the outbox gives each a different mail, and a reader's mails of one ticket in order)."""

    def __init__(self, sender: OutboxSender, *, sweep_interval: float, concurrency: int = 1) -> None:
        self._sender = sender
        self._sweep_interval = sweep_interval
        self._concurrency = concurrency
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
            senders = (self._sender.send_due(limit=BATCH) for _ in range(self._concurrency))
            tried = await asyncio.gather(*senders, return_exceptions=True)
            for error in tried:
                if isinstance(error, OSError | asyncpg.PostgresError | asyncpg.InterfaceError):
                    log.warning("outbox unreachable, sweeping again in %.1fs: %s", self._sweep_interval, error)
                elif isinstance(error, BaseException):
                    raise error
            if any(each == BATCH for each in tried):
                continue  # more may be due: no pause
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._sweep_interval)
