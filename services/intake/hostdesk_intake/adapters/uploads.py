"""The port through which intake remembers the files each caller uploaded until they are attached, and its NATS
adapter: the key-value bucket ``<ROOT>_UPLOADS`` (declared by the tickets service, read and written by intake
alone), one key ``upload.<attachment id>`` per file, forgotten a day after its upload
(``runtime.nats.UPLOADS_TTL_SECONDS``). The bytes are in the attachment store (``runtime.blobs``), by digest."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Protocol

from hostdesk_contracts.attachments import ATTACHMENT_ID_PATTERN, Attachment
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from hostdesk_intake.adapters.command_bus import BusUnavailable
from hostdesk_intake.domain.attachments import Upload

_ID = re.compile(ATTACHMENT_ID_PATTERN)


class UploadsUnavailable(BusUnavailable):
    """The uploads cannot be read or written now: nothing was recorded, and the caller should retry later."""


class Uploads(Protocol):
    async def keep(self, upload: Upload) -> None:
        """Remember ``upload`` under its attachment's id. Raises ``UploadsUnavailable``."""
        ...

    async def find(self, attachment_id: str) -> Upload | None:
        """The upload of that id, ``None`` for an id never uploaded or forgotten. Raises ``UploadsUnavailable``."""
        ...


def _key(attachment_id: str) -> str:
    return f"upload.{attachment_id}"


def _encoded(upload: Upload) -> bytes:
    return json.dumps(
        {"tenant": upload.tenant, "account_id": upload.account_id, "attachment": upload.attachment.model_dump()}
    ).encode()


def _decoded(value: bytes) -> Upload | None:
    try:
        data = json.loads(value)
        return Upload(
            tenant=str(data["tenant"]),
            account_id=str(data["account_id"]),
            attachment=Attachment.model_validate(data["attachment"]),
        )
    except (ValueError, KeyError, TypeError, ValidationError):
        return None  # no upload intake wrote: nobody may attach it


class MemoryUploads:
    """Uploads in a dict, for unit tests."""

    def __init__(self) -> None:
        self.uploads: dict[str, Upload] = {}

    async def keep(self, upload: Upload) -> None:
        self.uploads[upload.attachment.id] = upload

    async def find(self, attachment_id: str) -> Upload | None:
        return self.uploads.get(attachment_id)


class KvUploads:
    """The uploads bucket over a connection intake has made already (the command bus's)."""

    def __init__(self, connection: Callable[[], Client | None], *, bucket: str, timeout: float) -> None:
        self._connection = connection
        self._bucket_name = bucket
        self._timeout = timeout
        self._kv: KeyValue | None = None

    async def keep(self, upload: Upload) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await (await self._bucket()).put(_key(upload.attachment.id), _encoded(upload))
        except (NatsError, TimeoutError) as error:
            raise UploadsUnavailable(f"the upload could not be recorded ({type(error).__name__})") from error

    async def find(self, attachment_id: str) -> Upload | None:
        if not _ID.fullmatch(attachment_id):
            return None
        try:
            async with asyncio.timeout(self._timeout):
                entry = await (await self._bucket()).get(_key(attachment_id))
        except KeyNotFoundError:
            return None
        except (NatsError, TimeoutError) as error:
            raise UploadsUnavailable(f"the uploads cannot be read ({type(error).__name__})") from error
        return _decoded(entry.value or b"")

    async def _bucket(self) -> KeyValue:
        connection = self._connection()
        if connection is None or not connection.is_connected:
            raise UploadsUnavailable("NATS is not reachable")
        if self._kv is None:
            try:
                self._kv = await connection.jetstream(timeout=self._timeout).key_value(self._bucket_name)
            except BucketNotFoundError as error:
                raise UploadsUnavailable(
                    f"the uploads bucket {self._bucket_name} is not declared yet (the tickets service declares it)"
                ) from error
        return self._kv
