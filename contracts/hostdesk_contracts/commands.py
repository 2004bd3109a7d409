"""Commands: what a caller asks the tickets service to do. Intake publishes them; tickets decides.

Every command has a stable ``command_id``: the same request retried carries the same id, and the tickets
service applies a command id once, however often it is delivered.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID, uuid5

from pydantic import AwareDatetime, Field, TypeAdapter

from hostdesk_contracts.attachments import Attachments
from hostdesk_contracts.base import Actor, Assignee, Channel, Contract, Priority, Rating, Side, Status, Visibility
from hostdesk_contracts.directory import DirectoryId

# Ticket ids of opened tickets derive from the command id, so a command delivered twice names one ticket.
TICKET_ID_NAMESPACE = UUID("8d7e3c1a-5b2f-4c6e-9a1d-0f4b7e2c9d35")

Subject = Annotated[str, Field(min_length=1, max_length=200)]
# A post's body: 20,000 characters hold a long explanation with a pasted log excerpt (about ten pages); what is
# longer is an attachment. Intake's requests share this bound, so a longer body is a 422 naming the field.
POST_BODY_MAX_CHARS = 20_000
Body = Annotated[str, Field(min_length=1, max_length=POST_BODY_MAX_CHARS)]
EmailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Name = Annotated[str, Field(min_length=1, max_length=100)]  # a department, a category, a status label
Tag = Annotated[str, Field(min_length=1, max_length=50)]
Reason = Annotated[str, Field(max_length=1000)]
# CC recipients a ticket may have. The handling side may set up to 20 (a provider copying a customer's whole team);
# the requesting side up to 5 (a colleague or two, a manager), which the ticket decides: the schema cannot tell
# who sends it. A requester's longer list is refused as ``invalid``, naming ``cc``.
CC_MAX_BY_HANDLER = 20
CC_MAX_BY_REQUESTER = 5


def ticket_id_for(command_id: str) -> UUID:
    """The id of the ticket that an open-ticket command creates."""
    return uuid5(TICKET_ID_NAMESPACE, command_id)


class CommandBase(Contract):
    command_id: str = Field(min_length=1, max_length=200)
    ticket_id: UUID
    actor: Actor
    issued_at: AwareDatetime
    expected_version: int | None = Field(
        default=None, ge=1, description="Refuse the command unless the ticket is at this version."
    )


class OpenTicket(CommandBase):
    type: Literal["ticket.open.v1"] = "ticket.open.v1"
    subject: Subject
    body: Body
    priority: Priority = Priority.NORMAL
    department: Name | None = None
    category: Name | None = None
    channel: Channel = Channel.WEB
    cc: tuple[EmailAddress, ...] = Field(default=(), max_length=CC_MAX_BY_HANDLER)
    related_service: str | None = Field(default=None, max_length=100)
    tags: tuple[Tag, ...] = Field(default=(), max_length=20)
    handling_organisation_id: DirectoryId | None = Field(
        default=None,
        description="The account the ticket is addressed to: the requester's parent when None, or any of its "
        "ancestors.",
    )
    requester_id: DirectoryId | None = Field(
        default=None,
        description="Set when the handling side opens the ticket to an account below it: that account is the "
        "requesting side, and the ticket starts answered, waiting for it.",
    )
    attachments: Attachments = Field(default=(), description="The files of the first post, stored already.")


class PostReply(CommandBase):
    type: Literal["ticket.reply.v1"] = "ticket.reply.v1"
    body: Body
    visibility: Visibility = Visibility.PUBLIC
    status: Status | None = Field(
        default=None, description="The status a public reply from the handling side sets instead of answered."
    )
    status_label: Name | None = Field(default=None, description="The provider's own label of that status.")
    attachments: Attachments = Field(default=(), description="The post's files, stored already.")


class CloseTicket(CommandBase):
    type: Literal["ticket.close.v1"] = "ticket.close.v1"
    reason: Reason | None = None


class ChangeStatus(CommandBase):
    """Staff set ``in_progress``, ``on_hold``, ``open``, ``answered`` or ``resolved``; the requester marks the
    ticket ``resolved``. Closing is ``CloseTicket``; a post reopens."""

    type: Literal["ticket.change_status.v1"] = "ticket.change_status.v1"
    status: Status
    status_label: Name | None = None
    reason: Reason | None = None


class AssignTicket(CommandBase):
    """Assign the ticket to a staff member (to oneself to pick it up), or unassign it with ``None``."""

    type: Literal["ticket.assign.v1"] = "ticket.assign.v1"
    assignee: Assignee | None


class UpdateTicket(CommandBase):
    """Change some of the ticket's fields; a field left out (``None``) stays as it is. The requesting side may
    change only the CC recipients."""

    type: Literal["ticket.update.v1"] = "ticket.update.v1"
    priority: Priority | None = None
    department: Name | None = None
    category: Name | None = None
    cc: tuple[EmailAddress, ...] | None = Field(default=None, max_length=CC_MAX_BY_HANDLER)
    tags: tuple[Tag, ...] | None = Field(default=None, max_length=20)


class RateTicket(CommandBase):
    """The requester rates the support once per resolution; ``unsatisfied`` needs a written complaint."""

    type: Literal["ticket.rate.v1"] = "ticket.rate.v1"
    rating: Rating
    comment: Annotated[str, Field(max_length=4000)] | None = None


class ArchiveTicket(CommandBase):
    type: Literal["ticket.archive.v1"] = "ticket.archive.v1"


class MergeTicket(CommandBase):
    """Merge ``ticket_id`` (the source) into ``into_ticket_id``: the target gains the source's posts, the source
    is closed with a link to the target."""

    type: Literal["ticket.merge.v1"] = "ticket.merge.v1"
    into_ticket_id: UUID


class AutoCloseTicket(CommandBase):
    """Issued by the system for a ticket answered at ``answered_version`` that the requester left unanswered
    too long. It changes nothing if the ticket moved on since."""

    type: Literal["ticket.auto_close.v1"] = "ticket.auto_close.v1"
    answered_version: int = Field(ge=1)
    reason: Reason


class ImportSource(Contract):
    """Where an imported ticket comes from: the previous helpdesk (``whmcs``, ``osticket``, ``zammad``...) and the
    ticket's id there. A tenant imports a ticket of a source once: importing it again names the same ticket."""

    system: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    ticket_id: Annotated[str, Field(min_length=1, max_length=200)]


class ImportedPost(Contract):
    """A post of an imported ticket, as the previous helpdesk holds it: when, by whom, on which side."""

    posted_at: AwareDatetime
    side: Side = Field(description="requester: the customer's side; handler: the support team's.")
    author_id: DirectoryId | None = Field(
        default=None,
        description="The author's id in the directory, if known; else the requester (its side) or the handling "
        "organisation (the support team's side), named ``author_name``.",
    )
    author_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    body: Body
    visibility: Visibility = Visibility.PUBLIC


IMPORTED_POSTS_MAX = 500  # a ticket's bound (the tickets service refuses more posts)
MESSAGE_IDS_MAX = 1_000
MessageId = Annotated[str, Field(min_length=3, max_length=998, pattern=r"^<?[^<>\s]+@[^<>\s]+>?$")]


class ImportTicket(CommandBase):
    """A ticket of the previous helpdesk, with its number, requester, posts (their own dates and authors) and
    status, and the Message-IDs of the mail already sent about it (so a reply to one threads into it). Recorded as
    one event saying it was imported, from where; nobody is mailed. ``ticket_id`` derives from the tenant and the
    source (``imported_ticket_id_for``)."""

    type: Literal["ticket.import.v1"] = "ticket.import.v1"
    source: ImportSource
    number: int | None = Field(
        default=None, ge=1, le=999_999_999_999, description="Kept when free; None: the ticket takes a new one."
    )
    subject: Subject
    requester_id: DirectoryId = Field(description="The account that asked, in the directory already.")
    handling_organisation_id: DirectoryId | None = None
    department: Name | None = None
    category: Name | None = None
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.EMAIL
    cc: tuple[EmailAddress, ...] = Field(default=(), max_length=CC_MAX_BY_HANDLER)
    tags: tuple[Tag, ...] = Field(default=(), max_length=20)
    status: Status = Status.OPEN
    posts: tuple[ImportedPost, ...] = Field(min_length=1, max_length=IMPORTED_POSTS_MAX)
    message_ids: tuple[MessageId, ...] = Field(default=(), max_length=MESSAGE_IDS_MAX)

    def as_open(self) -> OpenTicket:
        """The open this import is, as the directory judges it: its requester, organisation and names."""
        return OpenTicket(
            command_id=self.command_id,
            ticket_id=self.ticket_id,
            actor=self.actor,
            issued_at=self.issued_at,
            subject=self.subject,
            body=self.posts[0].body,
            priority=self.priority,
            department=self.department,
            category=self.category,
            channel=self.channel,
            cc=self.cc,
            tags=self.tags,
            handling_organisation_id=self.handling_organisation_id,
            requester_id=self.requester_id,
        )


def imported_ticket_id_for(tenant: str, source: ImportSource) -> UUID:
    """The id of the ticket an import of ``source`` makes in ``tenant``: one ticket however often it is imported."""
    return uuid5(TICKET_ID_NAMESPACE, f"import:{tenant}:{source.system.lower()}:{source.ticket_id}")


AnyCommand = (
    OpenTicket
    | PostReply
    | CloseTicket
    | ChangeStatus
    | AssignTicket
    | UpdateTicket
    | RateTicket
    | ArchiveTicket
    | MergeTicket
    | AutoCloseTicket
    | ImportTicket
)
COMMAND_TYPES: tuple[type[CommandBase], ...] = (
    OpenTicket,
    PostReply,
    CloseTicket,
    ChangeStatus,
    AssignTicket,
    UpdateTicket,
    RateTicket,
    ArchiveTicket,
    MergeTicket,
    AutoCloseTicket,
    ImportTicket,
)
Command = Annotated[AnyCommand, Field(discriminator="type")]
COMMAND_ADAPTER: TypeAdapter[AnyCommand] = TypeAdapter(Command)


def command_type_token(command: type[CommandBase] | CommandBase) -> str:
    """The command's ``type``, e.g. ``ticket.change_status.v1``."""
    command_class = command if isinstance(command, type) else type(command)
    token: str = command_class.model_fields["type"].default
    return token


# The last token of each command's NATS subject: ``ticket.change_status.v1`` -> ``change_status``.
COMMAND_NAMES: dict[type[CommandBase], str] = {
    command: command_type_token(command).removeprefix("ticket.").removesuffix(".v1") for command in COMMAND_TYPES
}
