"""The attachment store: a file's bytes, kept once per tenant by their SHA-256, behind a port every service reads
through (intake writes, query serves downloads, notify attaches files to mail).

The default store is the NATS object store ``<ROOT>_ATTACHMENTS`` (``NatsBlobStore``): it needs nothing beyond what
the product runs already (JetStream keeps it on disk, replicated in a cluster like every stream), it splits a file
into chunks well under NATS's payload limit, and it checks each file's digest on the way out. A provider with
terabytes of attachments implements the same port on an S3-compatible store; nothing else changes, since events
and read models name a file only by its digest. ``MemoryBlobStore`` is for unit tests.

A file is named ``<tenant>.<digest>`` in the store: the same bytes attached twice in one tenant are stored once;
two tenants never share a stored file (a tenant's files can be deleted with it, and no tenant learns from timing
what another holds).
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Protocol

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import BucketNotFoundError, NotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from hostdesk_contracts.runtime.problems import Unavailable
from hostdesk_contracts.subjects import Subjects


class BlobsUnavailable(Unavailable):
    """The attachment store cannot be reached now: nothing was stored or read, try again shortly."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The attachment store cannot be reached now ({reason}); try again shortly.")
        self.reason = reason


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_name(tenant: str, digest: str) -> str:
    return f"{tenant}.{digest}"


class BlobStore(Protocol):
    async def put(self, tenant: str, data: bytes) -> str:
        """Store ``data`` for ``tenant`` unless it is stored already; its digest. Raises ``BlobsUnavailable``."""
        ...

    async def get(self, tenant: str, digest: str) -> bytes | None:
        """The bytes stored under ``digest`` for ``tenant``, ``None`` when none are. Raises ``BlobsUnavailable``."""
        ...


class MemoryBlobStore:
    """Files in a dict, for unit tests. ``reachable = False`` plays the store away."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.puts = 0  # writes of new contents
        self.reachable = True

    async def put(self, tenant: str, data: bytes) -> str:
        self._check()
        digest = digest_of(data)
        if blob_name(tenant, digest) not in self.files:
            self.files[blob_name(tenant, digest)] = bytes(data)
            self.puts += 1
        return digest

    async def get(self, tenant: str, digest: str) -> bytes | None:
        self._check()
        return self.files.get(blob_name(tenant, digest))

    def _check(self) -> None:
        if not self.reachable:
            raise BlobsUnavailable("the store is unreachable")


class NatsBlobStore:
    """The object store ``<ROOT>_ATTACHMENTS`` (or ``bucket``: support mail's raw bytes are kept the same way, in
    ``<ROOT>_MAIL``) over a connection the service has made already (``connection`` gives it, or ``None`` while
    NATS is away). The tickets service declares the buckets (``runtime.nats``)."""

    def __init__(
        self, connection: _Connection, *, subjects: Subjects, timeout: float, bucket: str | None = None
    ) -> None:
        self._connection = connection
        self._bucket_name = bucket or subjects.attachments_bucket
        self._timeout = timeout
        self._store: ObjectStore | None = None
        self._writing: dict[str, asyncio.Future[None]] = {}  # one write of a content at a time in this process

    async def put(self, tenant: str, data: bytes) -> str:
        digest = digest_of(data)
        name = blob_name(tenant, digest)
        while (running := self._writing.get(name)) is not None:
            await asyncio.shield(running)
        done = asyncio.get_running_loop().create_future()
        self._writing[name] = done
        try:
            store = await self._bucket()
            async with asyncio.timeout(self._timeout * max(1, len(data) // 2**20)):
                try:
                    await store.get_info(name)
                    return digest  # stored already: the same bytes, by their digest
                except (ObjectNotFoundError, NotFoundError):
                    pass
                await store.put(name, data)
            return digest
        except (NatsError, TimeoutError) as error:
            raise BlobsUnavailable(type(error).__name__) from error
        finally:
            del self._writing[name]
            done.set_result(None)

    async def get(self, tenant: str, digest: str) -> bytes | None:
        try:
            store = await self._bucket()
            async with asyncio.timeout(self._timeout * 8):
                result = await store.get(blob_name(tenant, digest))
        except (ObjectNotFoundError, NotFoundError):
            return None
        except (NatsError, TimeoutError) as error:
            raise BlobsUnavailable(type(error).__name__) from error
        return bytes(result.data or b"")

    async def _bucket(self) -> ObjectStore:
        if self._store is not None:
            return self._store
        client = self._connection()
        if client is None or not client.is_connected:
            raise BlobsUnavailable("NATS is not reachable")
        try:
            async with asyncio.timeout(self._timeout):
                self._store = await client.jetstream(timeout=self._timeout).object_store(self._bucket_name)
        except (BucketNotFoundError, NotFoundError) as error:
            raise BlobsUnavailable(f"the bucket {self._bucket_name} is not declared yet") from error
        except (NatsError, TimeoutError) as error:
            raise BlobsUnavailable(type(error).__name__) from error
        return self._store


class _Connection(Protocol):
    def __call__(self) -> Client | None: ...
