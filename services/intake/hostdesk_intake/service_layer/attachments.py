"""Uploading files, and attaching them to a post.

A caller uploads files first (``upload``): each is stored in the attachment store by its digest (once per tenant,
however often it is uploaded) and remembered a day as the caller's upload. A new ticket or a post then names the
uploads it attaches (``attached``): only the caller's own, each once. An attachment's id is derived from the
command's id and the upload's, so a retried request (the same command) names the same attachments, and the same
upload attached to two posts is two attachments of one stored file.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Actor
from hostdesk_contracts.runtime.blobs import BlobStore

from hostdesk_intake.adapters.uploads import Uploads
from hostdesk_intake.domain.attachments import Upload, attachment_of


class UnknownUpload(Exception):
    """The ``index``-th upload named is none of the caller's: never uploaded, forgotten after a day, or another's."""

    def __init__(self, index: int, upload_id: str) -> None:
        super().__init__(f"no upload {upload_id} of the caller's")
        self.index = index
        self.upload_id = upload_id


@dataclass(frozen=True)
class File:
    """A file as it came in a request: the name its sender gave (any, or none) and its bytes."""

    name: str | None
    data: bytes


async def upload(files: Sequence[File], *, caller: Actor, blobs: BlobStore, uploads: Uploads) -> list[Attachment]:
    """Store each file and remember it as ``caller``'s upload; the records, in order. Raises ``BlobsUnavailable``
    or ``UploadsUnavailable`` (what was stored already stays: the same bytes again are stored once)."""
    records = []
    for file in files:
        digest = await blobs.put(caller.tenant, file.data)
        record = attachment_of(file.data, name=file.name, digest=digest)
        await uploads.keep(Upload(tenant=caller.tenant, account_id=caller.account_id, attachment=record))
        records.append(record)
    return records


async def attached(
    upload_ids: Sequence[str], *, caller: Actor, command_id: str, uploads: Uploads
) -> tuple[Attachment, ...]:
    """The attachments of a post that names ``upload_ids``, in order. Raises ``UnknownUpload`` for the first one
    that is not the caller's, ``UploadsUnavailable``."""
    found = await asyncio.gather(*(uploads.find(each) for each in upload_ids))
    attachments = []
    for index, (upload_id, record) in enumerate(zip(upload_ids, found, strict=True)):
        if record is None or not record.belongs_to(caller.tenant, caller.account_id):
            raise UnknownUpload(index, upload_id)
        attachments.append(record.attachment.model_copy(update={"id": attachment_id_for(command_id, upload_id)}))
    return tuple(attachments)


def attachment_id_for(command_id: str, upload_id: str) -> str:
    return "att_" + hashlib.sha256(f"{command_id}\x00{upload_id}".encode()).hexdigest()[:32]
