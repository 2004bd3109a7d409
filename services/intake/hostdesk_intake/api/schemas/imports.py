"""The request of an import from the previous helpdesk: a ticket as it was there (``ImportTicket``'s fields, but
the ids, which the envelope and the source give)."""

from __future__ import annotations

from typing import Annotated

from hostdesk_contracts.base import Channel, Priority, Side, Status, Visibility
from hostdesk_contracts.commands import (
    CC_MAX_BY_HANDLER,
    IMPORTED_POSTS_MAX,
    MESSAGE_IDS_MAX,
    Body,
    EmailAddress,
    ImportSource,
    MessageId,
    Subject,
)
from hostdesk_contracts.directory import DirectoryId
from pydantic import AwareDatetime, Field, StringConstraints

from hostdesk_intake.api.schemas.fields import CommandRequest, Label, Readable, Tags


class ImportedPostRequest(CommandRequest):
    posted_at: AwareDatetime = Field(description="When it was posted there, with its offset (ISO 8601).")
    side: Side = Field(description="requester: the customer's side; handler: the support team's.")
    author_id: DirectoryId | None = Field(default=None, description="The author's id in the directory, if known.")
    author_name: Annotated[str, Field(min_length=1, max_length=200), Readable] | None = None
    body: Annotated[Body, Readable]
    visibility: Visibility = Visibility.PUBLIC


class ImportRequest(CommandRequest):
    source: ImportSource = Field(description="The previous helpdesk and the ticket's id there.")
    number: int | None = Field(
        default=None, ge=1, le=999_999_999_999, description="Its number there, kept when no other ticket has it."
    )
    subject: Annotated[Subject, StringConstraints(strip_whitespace=True), Readable]
    requester_id: DirectoryId
    handling_organisation_id: DirectoryId | None = None
    department: Label | None = None
    category: Label | None = None
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.EMAIL
    cc: tuple[EmailAddress, ...] = Field(default=(), max_length=CC_MAX_BY_HANDLER)
    tags: Tags = ()
    status: Status = Field(default=Status.OPEN, description="Its status there (closed ones go to the archive).")
    posts: tuple[ImportedPostRequest, ...] = Field(min_length=1, max_length=IMPORTED_POSTS_MAX)
    message_ids: tuple[MessageId, ...] = Field(
        default=(),
        max_length=MESSAGE_IDS_MAX,
        description="Message-IDs of the mail sent about it, so that a reply to one lands in it.",
    )
