"""Files for the query tests: attachment records of given bytes, and events of the stories carrying them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TypeVar

from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.events import PostsMerged, ReplyPosted, TicketOpened
from hostdesk_contracts.runtime.blobs import digest_of

Post = TypeVar("Post", TicketOpened, ReplyPosted)


def attachment_of(data: bytes, *, name: str = "screenshot.png", media_type: str = "image/png") -> Attachment:
    return Attachment(
        id=f"att_{uuid.uuid4().hex}", name=name, media_type=media_type, size=len(data), digest=digest_of(data)
    )


def attached(event: Post, *files: Attachment) -> Post:
    """An opening or a reply of a story, with ``files``."""
    return event.model_copy(update={"attachments": files})


def merged_with_files(event: PostsMerged, files: Mapping[str, tuple[Attachment, ...]]) -> PostsMerged:
    """A merge whose posts carry their files, by the posts' ids (the stories' merged posts carry none)."""
    posts = tuple(post.model_copy(update={"attachments": files.get(post.post_id, ())}) for post in event.posts)
    return event.model_copy(update={"posts": posts})
