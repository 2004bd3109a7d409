"""Downloading a file of a post: its record from the read model, as the caller may see it, and its bytes from the
attachment store."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from hostdesk_contracts.access import Reach
from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.runtime.blobs import BlobStore

from hostdesk_query.adapters.ports import TicketReader

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Download:
    attachment: Attachment
    data: bytes


async def download(
    reader: TicketReader, blobs: BlobStore, reach: Reach, ticket_id: UUID, attachment_id: str
) -> Download | None:
    """The file and its bytes, or None when the caller may not see the ticket or the post holding the file, when
    there is no such file, or when the store lacks bytes the read model names (logged: it should never happen).
    Raises ``StoreUnavailable`` and ``BlobsUnavailable``."""
    held = await reader.posted_file(reach, ticket_id, attachment_id)
    if held is None:
        return None
    data = await blobs.get(held.tenant, held.attachment.digest)
    if data is None:
        log.warning(
            "the attachment store holds no bytes for attachment %s of ticket %s (digest %s)",
            attachment_id,
            ticket_id,
            held.attachment.digest,
        )
        return None
    return Download(attachment=held.attachment, data=data)
