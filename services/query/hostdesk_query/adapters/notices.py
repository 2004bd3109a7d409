"""Wake the readers waiting for a ticket's version: the projection sends ``NOTIFY <channel>, '<id>:<version>'``
when it commits, and one connection per process listens. Notifications are a shortcut, not a promise: when
the connection is lost, readers fall back to looking again now and then, and the listener reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import asyncpg
from hostdesk_contracts.runtime.clock import pause

from hostdesk_query.adapters.postgres import UNAVAILABLE_ERRORS

log = logging.getLogger(__name__)

_RECONNECT_MAX_SECONDS = 5.0


def notify_channel(schema: str) -> str:
    return f"{schema}_ticket_version"


class PostgresVersionNotices:
    def __init__(self, database_url: str, *, channel: str, connect_timeout: float = 5.0) -> None:
        self._database_url = database_url
        self._channel = channel
        self._connect_timeout = connect_timeout
        self._watchers: defaultdict[UUID, set[asyncio.Event]] = defaultdict(set)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen_for_ever(), name="query-version-notices")

    async def close(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task

    @contextmanager
    def watch(self, ticket_id: UUID) -> Iterator[asyncio.Event]:
        changed = asyncio.Event()
        self._watchers[ticket_id].add(changed)
        try:
            yield changed
        finally:
            self._watchers[ticket_id].discard(changed)
            if not self._watchers[ticket_id]:
                del self._watchers[ticket_id]

    def _on_notice(self, _connection: Any, _pid: int, _channel: str, payload: object) -> None:
        ticket_id, _, _version = str(payload).partition(":")
        try:
            watchers = self._watchers.get(UUID(ticket_id), ())
        except ValueError:
            return
        for changed in watchers:
            changed.set()

    async def _listen_for_ever(self) -> None:
        delay = 0.1
        while not self._stopping.is_set():
            try:
                await self._listen_once()
                delay = 0.1
            except UNAVAILABLE_ERRORS as error:
                log.warning("listening for ticket versions failed, retrying in %.1fs: %s", delay, error)
            self.listening.clear()
            # Readers waiting now may have missed a notification: let them look again.
            for watchers in self._watchers.values():
                for changed in watchers:
                    changed.set()
            await pause(self._stopping, delay)
            delay = min(delay * 2, _RECONNECT_MAX_SECONDS)

    async def _listen_once(self) -> None:
        connection = await asyncpg.connect(self._database_url, timeout=self._connect_timeout)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(self._channel, self._on_notice)
            self.listening.set()
            stop = asyncio.create_task(self._stopping.wait())
            dropped = asyncio.create_task(lost.wait())
            try:
                await asyncio.wait({stop, dropped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
                dropped.cancel()
        finally:
            with contextlib.suppress(*UNAVAILABLE_ERRORS):
                await asyncio.wait_for(connection.close(), timeout=2.0)
