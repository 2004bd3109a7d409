"""The port through which intake finds the ticket a number names, for mail that names it (``[#482913]``,
``support+t482913@``), and its NATS adapter: the key-value bucket ``<ROOT>_THREADS``, which the tickets service
keeps (key ``<tenant>.<number>``, the ticket's id; a ticket merged into another names the one it went into; key
``<tenant>.message.<digest>``, the imported ticket a Message-ID of the previous helpdesk's mail was about)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

from hostdesk_contracts.subjects import thread_merged_key, thread_message_key, thread_number_key
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue

from hostdesk_intake.adapters.command_bus import BusUnavailable


class ThreadsUnavailable(BusUnavailable):
    """Ticket numbers cannot be looked up now."""


class Threads(Protocol):
    async def ticket_of(self, tenant: str, number: int) -> UUID | None:
        """The ticket of ``number`` in ``tenant``, ``None`` when there is none. Raises ``ThreadsUnavailable``."""
        ...

    async def merged_into(self, tenant: str, ticket_id: UUID) -> UUID | None:
        """The ticket ``ticket_id`` was merged into, ``None`` when it was not. Raises ``ThreadsUnavailable``."""
        ...

    async def ticket_of_message(self, tenant: str, message_id: str) -> UUID | None:
        """The imported ticket the previous helpdesk's mail ``message_id`` was about, ``None`` when there is none.
        Raises ``ThreadsUnavailable``."""
        ...


class MemoryThreads:
    def __init__(self) -> None:
        self.tickets: dict[tuple[str, int], UUID] = {}
        self.merges: dict[tuple[str, UUID], UUID] = {}
        self.messages: dict[tuple[str, str], UUID] = {}

    async def ticket_of(self, tenant: str, number: int) -> UUID | None:
        return self.tickets.get((tenant, number))

    async def merged_into(self, tenant: str, ticket_id: UUID) -> UUID | None:
        return self.merges.get((tenant, ticket_id))

    async def ticket_of_message(self, tenant: str, message_id: str) -> UUID | None:
        return self.messages.get((tenant, message_id.strip("<>")))


class KvThreads:
    """The threads bucket over a connection intake has made already (the command bus's)."""

    def __init__(self, connection: Callable[[], Client | None], *, bucket: str, timeout: float) -> None:
        self._connection = connection
        self._bucket_name = bucket
        self._timeout = timeout
        self._kv: KeyValue | None = None

    async def ticket_of(self, tenant: str, number: int) -> UUID | None:
        return await self._ticket_under(thread_number_key(tenant, number))

    async def merged_into(self, tenant: str, ticket_id: UUID) -> UUID | None:
        return await self._ticket_under(thread_merged_key(tenant, ticket_id))

    async def ticket_of_message(self, tenant: str, message_id: str) -> UUID | None:
        return await self._ticket_under(thread_message_key(tenant, message_id))

    async def _ticket_under(self, key: str) -> UUID | None:
        try:
            async with asyncio.timeout(self._timeout):
                entry = await (await self._bucket()).get(key)
        except KeyNotFoundError:
            return None
        except (NatsError, TimeoutError) as error:
            raise ThreadsUnavailable(f"ticket numbers cannot be looked up ({type(error).__name__})") from error
        try:
            return UUID((entry.value or b"").decode())
        except (ValueError, UnicodeDecodeError):
            return None

    async def _bucket(self) -> KeyValue:
        connection = self._connection()
        if connection is None or not connection.is_connected:
            raise ThreadsUnavailable("NATS is not reachable")
        if self._kv is None:
            try:
                self._kv = await connection.jetstream(timeout=self._timeout).key_value(self._bucket_name)
            except BucketNotFoundError as error:
                raise ThreadsUnavailable(f"the bucket {self._bucket_name} is not declared yet") from error
        return self._kv
