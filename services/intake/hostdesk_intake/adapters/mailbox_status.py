"""Where the replicas keep each mailbox's status, which is also its lease (``domain.mailboxes``): the rates bucket
(intake's own, shared by its replicas), key ``mailbox.<digest of the address>``, written by compare-and-set so
that of two replicas taking a mailbox at once, one does. A status is forgotten two hours after its last write
(the bucket's age limit; a mailbox is polled at least hourly)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from hostdesk_intake.adapters.command_bus import BusUnavailable
from hostdesk_intake.domain.mailboxes import MailboxStatus, status_key


class StatusUnavailable(BusUnavailable):
    """The statuses cannot be read or written now."""


class MailboxStatuses(Protocol):
    async def get(self, address: str) -> tuple[MailboxStatus | None, int]:
        """The mailbox's status and its revision (0: none)."""
        ...

    async def put(self, status: MailboxStatus, *, revision: int) -> int | None:
        """Write ``status`` over the one at ``revision`` (0: none): its new revision, ``None`` when another
        replica wrote in between."""
        ...


class MemoryMailboxStatuses:
    def __init__(self) -> None:
        self.held: dict[str, tuple[MailboxStatus, int]] = {}
        self._revision = 0

    async def get(self, address: str) -> tuple[MailboxStatus | None, int]:
        status, revision = self.held.get(status_key(address), (None, 0))
        return status, revision

    async def put(self, status: MailboxStatus, *, revision: int) -> int | None:
        key = status_key(status.address)
        if self.held.get(key, (None, 0))[1] != revision:
            return None
        self._revision += 1
        self.held[key] = (status, self._revision)
        return self._revision


class KvMailboxStatuses:
    def __init__(self, connection: Callable[[], Client | None], *, bucket: str, timeout: float) -> None:
        self._connection = connection
        self._bucket_name = bucket
        self._timeout = timeout
        self._kv: KeyValue | None = None

    async def _bucket(self) -> KeyValue:
        client = self._connection()
        if client is None or not client.is_connected:
            raise StatusUnavailable("NATS is not reachable")
        if self._kv is None:
            self._kv = await client.jetstream(timeout=self._timeout).key_value(self._bucket_name)
        return self._kv

    async def get(self, address: str) -> tuple[MailboxStatus | None, int]:
        try:
            async with asyncio.timeout(self._timeout):
                entry = await (await self._bucket()).get(status_key(address))
        except KeyNotFoundError:
            return None, 0
        except (NatsError, TimeoutError) as error:
            raise StatusUnavailable(f"the mailbox statuses cannot be read ({type(error).__name__})") from error
        try:
            status = MailboxStatus.model_validate_json(entry.value or b"")
        except ValidationError:
            status = None  # not a status (written by an older intake): taken over like none
        return status, entry.revision or 0

    async def put(self, status: MailboxStatus, *, revision: int) -> int | None:
        value = status.model_dump_json().encode()
        try:
            async with asyncio.timeout(self._timeout):
                kv = await self._bucket()
                key = status_key(status.address)
                written = await (kv.create(key, value) if revision == 0 else kv.update(key, value, last=revision))
        except (KeyWrongLastSequenceError, KeyNotFoundError):
            return None
        except (NatsError, TimeoutError) as error:
            raise StatusUnavailable(f"the mailbox statuses cannot be written ({type(error).__name__})") from error
        return int(written)
