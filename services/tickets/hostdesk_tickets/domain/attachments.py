"""The files of a ticket's posts, as the ticket records them: each post's ``Attachment`` records (never the bytes),
each file once in its post, and no more files on one ticket than ``domain.limits.ATTACHMENTS_MAX``.

A post's files are the post's: an internal note's are shown to whoever is shown the note, the handling side alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Status

from hostdesk_tickets.domain.errors import InvalidCommand
from hostdesk_tickets.domain.limits import ATTACHMENTS_MAX

AttachmentState = dict[str, Any]  # an Attachment as events store it: id, name, media_type, size, digest


def attachments_state(attachments: Sequence[Attachment], *, held: int) -> list[AttachmentState]:
    """The files of a new post as its event records them, on a ticket holding ``held`` files already.

    Raises ``InvalidCommand`` naming ``attachments`` when the post names one attachment twice, or when the ticket
    would hold more than ``ATTACHMENTS_MAX`` files with the post's (told as of a new ticket: the ticket's own
    decision tells it with its status and version).
    """
    twice = sorted(attachment_id for attachment_id, count in Counter(a.id for a in attachments).items() if count > 1)
    if twice:
        raise _invalid(f"A post names each attachment once; {', '.join(twice)} is named more than once.")
    if held + len(attachments) > ATTACHMENTS_MAX:
        raise _invalid(
            f"A ticket holds at most {ATTACHMENTS_MAX} files; this one holds {held}, so it takes "
            f"{max(ATTACHMENTS_MAX - held, 0)} more, not {len(attachments)}. Open a new ticket for more files."
        )
    return [attachment.model_dump(mode="json") for attachment in attachments]


def attachment_count(posts: Sequence[dict[str, Any]]) -> int:
    """How many files ``posts`` (as a merge records them) hold."""
    return sum(len(post["attachments"]) for post in posts)


def _invalid(detail: str) -> InvalidCommand:
    return InvalidCommand(detail, field="attachments", current_status=Status.OPEN, current_version=None)
