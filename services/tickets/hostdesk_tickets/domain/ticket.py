"""The ticket aggregate. Public methods decide; private ``@event`` methods only record.

A recorded body is replayed on every load: it never raises, reads the clock or makes an id. Every public
decision goes through ``@decision`` (a command already applied records nothing; any other is admitted first),
and every event records its command, which ``Ticket.Event.apply`` marks applied, live and on replay alike.

The rules (SPEC section 2):
- A new ticket is ``open``. A public reply from the handling side makes it ``answered`` (or the status the
  reply sets); one from the requesting side makes it ``customer_reply``. An internal note changes nothing and
  only the handling side writes one.
- A public post to a closed or archived ticket first reopens it as ``open`` and takes it out of the archive.
- Staff set ``open``, ``answered``, ``in_progress``, ``on_hold`` or ``resolved``; the requester marks it
  ``resolved``. Closing is its own command; a closed ticket changes status only by a post that reopens it.
- Closing archives. Answered or resolved tickets may also be archived without closing.
- The requester rates the support once per resolution, on a resolved or closed ticket.
- A ticket merged into another is closed and archived, and accepts nothing more but assignment and fields.
- Only tickets of one requester are merged: the same tenant and the same requester account. The target gains
  the source's posts (with their authors' names and addresses) and the source's requester is told to continue
  in the target, so a merge across requesters would show one customer's words to another and send the first to
  a ticket they may not see. Such a merge is refused as ``invalid`` (naming ``into_ticket_id``); staff who find
  two requesters reporting one fault link the tickets in their replies instead.
- Who may act, and for which side, is the one rule of ``hostdesk_contracts.access``: the requester requests; the
  organisation the ticket is addressed to (its handling organisation) handles, its staff limited to their
  departments when it says so (the reach the service layer gives). Anyone else is told the ticket does not exist.
- What the directory allows (``domain.addressing``): where a new ticket goes, who may be its assignee, which
  departments and categories it may be put in. A ticket assigned as it opens (its category's assignee, or its
  department's next agent in turn) records the assignment in the same decision, right after its opening.
- A post's files (``domain.attachments``) are recorded with it, each once, and are the post's: an internal note's
  are the handling side's only. A merge carries every post's files into the target.
- Bounds (``domain.limits``): a ticket holds at most 1,000 posts and 200 files (a post past the files is refused
  as ``invalid``, naming ``attachments``); the requesting side posts at most 10 public replies within a minute
  while the handling side is silent (refused as ``rate_limited``, with when to try again); the requesting side
  sets at most 5 CC recipients, the handling side 20 (refused as ``invalid``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from hostdesk_contracts.access import Reach, reach_of
from hostdesk_contracts.base import Actor, Rating, Role, Side, Status, Visibility
from hostdesk_contracts.commands import (
    CC_MAX_BY_REQUESTER,
    ArchiveTicket,
    AssignTicket,
    AutoCloseTicket,
    ChangeStatus,
    CloseTicket,
    CommandBase,
    ImportTicket,
    MergeTicket,
    OpenTicket,
    PostReply,
    RateTicket,
    UpdateTicket,
)
from hostdesk_contracts.directory import AccountRecord, Configuration, StaffRecord

from hostdesk_tickets.domain.addressing import Opening, check_assignee, check_category, check_department
from hostdesk_tickets.domain.attachments import AttachmentState, attachment_count, attachments_state
from hostdesk_tickets.domain.deadlines import SYSTEM_ACCOUNT, SYSTEM_NAME
from hostdesk_tickets.domain.errors import (
    InvalidCommand,
    MergeTargetNotFound,
    PostingTooFast,
    StaleVersion,
    TicketNotFound,
    TransitionForbidden,
)
from hostdesk_tickets.domain.limits import (
    ATTACHMENTS_MAX,
    POSTS_MAX,
    REQUESTER_BURST_MAX,
    burst_after,
    seconds_until_requester_may_post,
)

ActorState = dict[str, Any]
# A post as PostsMerged records it: post_id, occurred_at (ISO), actor, side, body, visibility, attachments.
PostState = dict[str, Any]

SET_BY_HANDLER = frozenset({Status.OPEN, Status.ANSWERED, Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED})
SET_BY_REQUESTER = frozenset({Status.RESOLVED})
ARCHIVABLE = frozenset({Status.ANSWERED, Status.RESOLVED})
RATEABLE = frozenset({Status.RESOLVED, Status.CLOSED})


C = TypeVar("C", bound=CommandBase)
P = ParamSpec("P")


def actor_state(actor: Actor) -> ActorState:
    """The actor as events store it. An actor of no organisation (every account but staff) is stored without
    the field, in the shape stored before staff had one."""
    state: ActorState = actor.model_dump(
        mode="json", exclude={"organisation_id"} if actor.organisation_id is None else None
    )
    return state


@dataclass(frozen=True)
class Admitted:
    """A command the ticket decides: the reach of its actor, the side it speaks for, and the envelope (that side,
    the actor, the command id) that every event it records carries."""

    reach: Reach
    side: Side
    envelope: dict[str, Any]


def decision(
    decide: Callable[Concatenate[Ticket, C, Admitted, P], None],
) -> Callable[Concatenate[Ticket, C, Reach | None, P], None]:
    """The one way into a public decision, so that none can skip it. A command already applied (a redelivery)
    records nothing. Any other is admitted: its actor must be one who may see the ticket (by ``reach``, which
    the service layer gives from the directory; ``None`` is the actor's own reach, limited to no department),
    and the version it expects, when it names this ticket, must be the ticket's. The target of a merge is named
    by the command's ``into_ticket_id``, so the version a merge expects is the source's alone."""

    @functools.wraps(decide)
    def admit_then_decide(
        ticket: Ticket, command: C, reach: Reach | None = None, /, *args: P.args, **kwargs: P.kwargs
    ) -> None:
        reach = reach or reach_of(command.actor)
        side = ticket.side_for(reach)
        if side is None:
            raise TicketNotFound(ticket.id)
        if command.command_id in ticket.applied:
            return
        expected = command.expected_version
        if expected is not None and command.ticket_id == ticket.id and expected != ticket.version:
            raise StaleVersion(
                f"The ticket is at version {ticket.version}, not {expected}.",
                current_status=ticket.status,
                current_version=ticket.version,
            )
        envelope = {"side": side.value, "actor": actor_state(command.actor), "command_id": command.command_id}
        decide(ticket, command, Admitted(reach=reach, side=side, envelope=envelope), *args, **kwargs)

    return admit_then_decide


class Ticket(Aggregate):
    # Version 2 added the lifecycle: category, tags, label, assignee, archive, rating, merge, auto-close.
    # Version 3 added the requesting side's recent post times, which bound how fast it posts.
    # Version 4 added the organisation the ticket is addressed to.
    # Version 5 added the count of the files its posts hold, which bounds them.
    class_version = 5

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A snapshot taken before version 2 gains the fields it could not know, at their first values."""
        state.setdefault("category", None)
        state.setdefault("tags", [])
        state.setdefault("status_label", None)
        state.setdefault("assignee", None)
        state.setdefault("archived", state.get("status") == Status.CLOSED.value)
        state.setdefault("rating", None)
        state.setdefault("rated", False)
        state.setdefault("merged_into", None)
        # Unknown for a ticket answered before version 2: auto-close then trusts the status alone.
        state.setdefault("answered_version", None)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """A snapshot taken before version 3 knows no recent posts: the requesting side's count starts afresh."""
        state.setdefault("requester_burst", [])

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        """A snapshot taken before version 4 is of a ticket opened before the directory: its tenant's provider
        handles it."""
        state.setdefault("handling_organisation_id", None)

    @staticmethod
    def upcast_v4_v5(state: dict[str, Any]) -> None:
        """A snapshot taken before version 5 is of a ticket whose posts hold no files: none could be attached."""
        state.setdefault("attachment_count", 0)

    @staticmethod
    def create_id(ticket_id: UUID) -> UUID:
        return ticket_id  # derived from the command id by intake: opening twice names one ticket

    class Event(Aggregate.Event):
        """The base of every event of a ticket, those named in ``@event`` and the classes declared here alike.

        Applying an event, when it is recorded and whenever it is replayed from the store, marks its command
        applied at the version the event gives the ticket. Each event declares ``command_id`` itself: declared
        here, it would move ahead of the event's own fields in every event stored from then on.
        """

        if TYPE_CHECKING:
            command_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.applied[self.command_id] = self.originator_version
            super().apply(aggregate)

    class Opened(Aggregate.Created):
        ticket_id: UUID
        tenant: str
        number: int
        subject: str
        body: str
        post_id: str
        requester: ActorState
        priority: str
        department: str | None
        category: str | None
        channel: str
        cc: list[str]
        related_service: str | None
        tags: list[str]
        command_id: str
        actor: ActorState
        handling_organisation_id: str | None
        status: str
        side: str
        attachments: list[AttachmentState]
        # Version 2 added category and tags; version 3 the organisation it is addressed to, the status it starts
        # in and the side that opened it (the handling side opens a ticket to an account below it, answered);
        # version 4 the files of the first post.
        class_version = 4

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["category"] = None
            state["tags"] = []

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["handling_organisation_id"] = None  # opened before the directory: its tenant's provider handles it
            state["status"] = Status.OPEN.value
            state["side"] = Side.REQUESTER.value

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state["attachments"] = []  # opened before files could be attached

    class Imported(Aggregate.Created):
        """A ticket brought from the previous helpdesk, whole: the opening's fields (``__init__`` takes them, as
        from ``Opened``), and what the import brings beside them: where it comes from, when it was opened there,
        every post at its own time (``apply`` counts them), its status there, the Message-IDs of its mail."""

        ticket_id: UUID
        tenant: str
        number: int
        subject: str
        body: str
        post_id: str
        requester: ActorState
        priority: str
        department: str | None
        category: str | None
        channel: str
        cc: list[str]
        related_service: str | None
        tags: list[str]
        command_id: str
        actor: ActorState
        handling_organisation_id: str | None
        status: str
        side: str
        attachments: list[AttachmentState]
        source: dict[str, str]
        opened_at: str  # ISO 8601, as posts' times are kept
        posts: list[PostState]
        message_ids: list[str]

        def apply(self, aggregate: Any) -> None:
            aggregate.post_ids = [post["post_id"] for post in self.posts]
            aggregate.archived = self.status == Status.CLOSED.value

    @event(Opened)
    def __init__(
        self,
        *,
        ticket_id: UUID,
        tenant: str,
        number: int,
        subject: str,
        body: str,
        post_id: str,
        requester: ActorState,
        priority: str,
        department: str | None,
        category: str | None,
        channel: str,
        cc: list[str],
        related_service: str | None,
        tags: list[str],
        command_id: str,
        actor: ActorState,
        handling_organisation_id: str | None,
        status: str,
        side: str,
        attachments: list[AttachmentState],
    ) -> None:
        self.tenant = tenant
        self.handling_organisation_id = handling_organisation_id
        self.number = number
        self.subject = subject
        self.requester = requester
        self.priority = priority
        self.department = department
        self.category = category
        self.channel = channel
        self.cc = list(cc)
        self.related_service = related_service
        self.tags = list(tags)
        self.status = Status(status)
        self.status_label: str | None = None
        self.assignee: dict[str, Any] | None = None
        self.archived = False
        self.rating: dict[str, Any] | None = None
        self.rated = False  # rated since the ticket was last resolved
        self.merged_into: str | None = None
        # The version of the answer the requester has not replied to: the opening, for a ticket opened answered.
        self.answered_version: int | None = 1 if status == Status.ANSWERED.value else None
        self.post_ids = [post_id]
        self.attachment_count = len(attachments)  # the files of every post it holds, merged ones too
        # When the requesting side posted since the handling side last posted publicly (the last few only).
        self.requester_burst: list[datetime] = []
        self.applied: dict[str, int] = {}  # command id -> the version its last event gave; see Event.apply

    # -- decisions ---------------------------------------------------------------------------------------

    @classmethod
    def open(cls, command: OpenTicket, *, opening: Opening, number: int) -> Ticket:
        """Open the ticket ``opening`` admitted (``domain.addressing``), assigned at once when it names an
        assignee: the assignment is recorded by the product, right after the opening, in the same decision."""
        actor = command.actor
        if opening.side is Side.REQUESTER and len(command.cc) > CC_MAX_BY_REQUESTER:
            raise InvalidCommand(
                f"A customer opens a ticket with at most {CC_MAX_BY_REQUESTER} CC recipients, "
                f"not {len(command.cc)}; the support team may add more.",
                field="cc",
                current_status=Status.OPEN,
                current_version=None,
            )
        attachments = attachments_state(command.attachments, held=0)
        ticket = cls(
            ticket_id=command.ticket_id,
            tenant=actor.tenant,
            number=number,
            subject=command.subject,
            body=command.body,
            post_id=command.command_id,
            requester=actor_state(opening.requester),
            priority=command.priority.value,
            department=opening.department,
            category=opening.category,
            channel=command.channel.value,
            cc=list(command.cc),
            related_service=command.related_service,
            tags=list(command.tags),
            command_id=command.command_id,
            actor=actor_state(actor),
            handling_organisation_id=opening.handling_organisation_id,
            status=opening.status.value,
            side=opening.side.value,
            attachments=attachments,
        )
        if opening.assignee is not None:
            routing = Actor(account_id=SYSTEM_ACCOUNT, tenant=actor.tenant, role=Role.SYSTEM, display_name=SYSTEM_NAME)
            ticket._assigned(
                assignee=opening.assignee.model_dump(mode="json"),
                from_assignee=None,
                side=Side.HANDLER.value,
                actor=actor_state(routing),
                command_id=command.command_id,
            )
        return ticket

    @staticmethod
    def admit_import(command: ImportTicket) -> None:
        """Tickets are imported by an organisation's own account or its supervisors (before a number is kept)."""
        if command.actor.role in (Role.AGENT, Role.SUBACCOUNT):
            raise InvalidCommand(
                "Tickets are imported by an organisation's own account or its supervisors.",
                field="actor",
                current_status=command.status,
                current_version=None,
            )

    @classmethod
    def import_ticket(cls, command: ImportTicket, *, opening: Opening, number: int) -> Ticket:
        """Bring the ticket ``opening`` admitted (``command.as_open()``, as the directory judges an open by the
        handling side) from the previous helpdesk: one event, recorded now, holding its history as it was."""
        cls.admit_import(command)
        requester = opening.requester
        handler = opening.handling_organisation_id or command.actor.tenant
        posts: list[PostState] = []
        for index, post in enumerate(sorted(command.posts, key=lambda each: each.posted_at)):
            if post.side is Side.REQUESTER:
                author = requester.model_copy(update={"display_name": post.author_name or requester.display_name})
            else:
                author = Actor(
                    account_id=post.author_id or handler,
                    tenant=command.actor.tenant,
                    role=Role.AGENT,
                    display_name=post.author_name,
                    organisation_id=handler,
                )
            posts.append(
                {
                    "post_id": f"{command.command_id}:{index}",
                    "occurred_at": post.posted_at.isoformat(),
                    "actor": actor_state(author),
                    "side": post.side.value,
                    "body": post.body,
                    "visibility": post.visibility.value,
                    "attachments": [],
                }
            )
        first = posts[0]
        return cls._create(
            cls.Imported,
            id=command.ticket_id,
            ticket_id=command.ticket_id,
            tenant=command.actor.tenant,
            number=number,
            subject=command.subject,
            body=first["body"],
            post_id=first["post_id"],
            requester=actor_state(requester),
            priority=command.priority.value,
            department=opening.department,
            category=opening.category,
            channel=command.channel.value,
            cc=list(command.cc),
            related_service=None,
            tags=list(command.tags),
            command_id=command.command_id,
            actor=actor_state(command.actor),
            handling_organisation_id=opening.handling_organisation_id,
            status=command.status.value,
            side=Side.HANDLER.value,
            attachments=[],
            source=command.source.model_dump(),
            opened_at=first["occurred_at"],
            posts=posts,
            message_ids=[each.strip("<>") for each in dict.fromkeys(command.message_ids)],
        )

    @decision
    def reply(self, command: PostReply, admitted: Admitted, *, now: datetime | None = None) -> None:
        """Post a reply at ``now`` (the application's clock; the time of the post's event), reopening a closed
        or archived ticket. Refused past the ticket's bounds: see ``domain.limits``."""
        side = admitted.side
        self._refuse_if_merged()
        internal = command.visibility is Visibility.INTERNAL
        if internal and side is Side.REQUESTER:
            raise self._forbidden("Only the handling side writes internal notes.")
        now = now or datetime.now(UTC)
        self._refuse_past_bounds(side, now=now)
        with self._about_this_ticket():
            attachments = attachments_state(command.attachments, held=self.attachment_count)
        if command.status is not None:
            if internal:
                raise self._forbidden("An internal note changes no status; post it without one.")
            self._check_settable(command.status, side)
        reopens = not internal and (self.status is Status.CLOSED or self.archived)
        if reopens:
            reason = "a reply was posted to the closed ticket" if self.status is Status.CLOSED else None
            self._reopened(
                from_status=self.status.value,
                reason=reason or "a reply was posted to the archived ticket",
                **admitted.envelope,
            )
        self._reply_posted(
            post_id=command.command_id,
            body=command.body,
            visibility=command.visibility.value,
            attachments=attachments,
            timestamp=now,
            **admitted.envelope,
        )
        if internal:
            return  # an internal note changes no status
        if side is Side.HANDLER:
            self._change_status(command.status or Status.ANSWERED, command.status_label, None, admitted.envelope)
        elif not reopens:  # a reopened ticket waits for staff as "open"
            self._change_status(Status.CUSTOMER_REPLY, None, None, admitted.envelope)

    @decision
    def change_status(self, command: ChangeStatus, admitted: Admitted) -> None:
        self._refuse_if_merged()
        if self.status is Status.CLOSED:
            raise self._forbidden(f"Ticket #{self.number} is closed; a reply reopens it.")
        if self.archived:
            raise self._forbidden(f"Ticket #{self.number} is in the archive; a reply brings it back.")
        self._check_settable(command.status, admitted.side)
        if command.status is self.status and command.status_label == self.status_label:
            raise self._forbidden(f"Ticket #{self.number} is already {self.shown_status}.")
        self._status_changed(
            from_status=self.status.value,
            to_status=command.status.value,
            status_label=command.status_label,
            reason=command.reason,
            **admitted.envelope,
        )

    @decision
    def close(self, command: CloseTicket, admitted: Admitted) -> None:
        if self.status is Status.CLOSED:
            raise self._forbidden(f"Ticket #{self.number} is already closed.")
        self._closed(from_status=self.status.value, reason=command.reason, automatic=False, **admitted.envelope)

    @decision
    def auto_close(self, command: AutoCloseTicket, admitted: Admitted) -> None:
        """Close a ticket the requester left unanswered, unless it moved on since it was found idle."""
        if command.actor.role is not Role.SYSTEM:
            raise self._forbidden("Only the system closes tickets for want of a reply.")
        if self.status is not Status.ANSWERED:
            raise self._forbidden(f"Ticket #{self.number} is {self.shown_status}, no longer waiting for a reply.")
        if self.answered_version not in (None, command.answered_version):
            raise self._forbidden(f"Ticket #{self.number} was answered again at version {self.answered_version}.")
        self._closed(from_status=self.status.value, reason=command.reason, automatic=True, **admitted.envelope)

    @decision
    def assign(
        self, command: AssignTicket, admitted: Admitted, *, staff: AccountRecord | StaffRecord | None = None
    ) -> None:
        """Assign to the staff member the directory holds as ``staff`` (the record of the id the command names),
        with the name and address the directory gives; or unassign."""
        if admitted.side is not Side.HANDLER:
            raise self._forbidden("Only the handling side assigns tickets.")
        assignee = None
        if command.assignee is not None:
            with self._about_this_ticket():
                member = check_assignee(staff, assignee_id=command.assignee.account_id, handler=self.handler_id)
            assignee = member.model_dump(mode="json")
        if assignee != self.assignee:
            self._assigned(assignee=assignee, from_assignee=self.assignee, **admitted.envelope)

    @decision
    def update(self, command: UpdateTicket, admitted: Admitted, *, configuration: Configuration | None = None) -> None:
        """Change the fields the command gives; one event per field that really changes. A new department or
        category is one of the handling organisation's ``configuration``, not retired."""
        staff_fields = (command.priority, command.department, command.category, command.tags)
        if admitted.side is Side.REQUESTER and any(field is not None for field in staff_fields):
            raise self._forbidden("The requesting side may change only the CC recipients.")
        with self._about_this_ticket():
            if command.department is not None and command.department != self.department:
                check_department(command.department, configuration, handler=self.handler_id)
            if command.category is not None and command.category != self.category:
                check_category(command.category, configuration, handler=self.handler_id)
        if command.priority is not None and command.priority.value != self.priority:
            self._priority_changed(from_priority=self.priority, to_priority=command.priority.value, **admitted.envelope)
        if command.department is not None and command.department != self.department:
            self._department_changed(
                from_department=self.department, to_department=command.department, **admitted.envelope
            )
        if command.category is not None and command.category != self.category:
            self._category_changed(from_category=self.category, to_category=command.category, **admitted.envelope)
        if command.cc is not None and admitted.side is Side.REQUESTER:
            self._check_requester_cc(command.cc)
        if command.cc is not None and list(command.cc) != self.cc:
            self._cc_changed(from_cc=self.cc, cc=list(command.cc), **admitted.envelope)
        if command.tags is not None and list(command.tags) != self.tags:
            self._tags_changed(from_tags=self.tags, tags=list(command.tags), **admitted.envelope)

    @decision
    def rate(self, command: RateTicket, admitted: Admitted) -> None:
        if admitted.side is not Side.REQUESTER:
            raise self._forbidden("Only the requester rates the support.")
        if self.status not in RATEABLE:
            raise self._forbidden(f"Ticket #{self.number} is {self.shown_status}; rate it once it is resolved.")
        if self.rated:
            raise self._forbidden(f"Ticket #{self.number} is already rated for this resolution.")
        comment = (command.comment or "").strip() or None
        if command.rating is Rating.UNSATISFIED and comment is None:
            raise self._forbidden("An unsatisfied rating needs a written complaint.")
        self._rated(rating=command.rating.value, comment=comment, **admitted.envelope)

    @decision
    def archive(self, command: ArchiveTicket, admitted: Admitted) -> None:
        if self.archived:
            raise self._forbidden(f"Ticket #{self.number} is already in the archive.")
        if self.status not in ARCHIVABLE:
            raise self._forbidden(
                f"Ticket #{self.number} is {self.shown_status}: only answered or resolved tickets can be archived."
            )
        self._archived(status=self.status.value, **admitted.envelope)

    @decision
    def merge_into(self, command: MergeTicket, admitted: Admitted, target: Ticket) -> None:
        """The source side of a merge: closed, archived, and linked to ``target``. Every check of both sides
        is made here, before anything is recorded on either."""
        if admitted.side is not Side.HANDLER:
            raise self._forbidden("Only the handling side merges tickets.")
        if target.side_for(admitted.reach) is not Side.HANDLER:
            raise MergeTargetNotFound(target.id)
        if target.id == self.id:
            raise self._forbidden("A ticket cannot be merged into itself.")
        self._refuse_if_merged()
        if target.merged_into is not None:
            raise self._forbidden(f"Ticket #{target.number} was itself merged; merge into the ticket it went into.")
        if (target.tenant, target.requester_id, target.handler_id) != (self.tenant, self.requester_id, self.handler_id):
            raise InvalidCommand(
                f"Ticket #{target.number} has another requester or handling organisation than ticket #{self.number}: "
                "only tickets of one requester, addressed to one organisation, are merged, so that nobody reads "
                "another customer's conversation.",
                field="into_ticket_id",
                current_status=self.status,
                current_version=self.version,
            )
        if len(target.post_ids) + len(self.post_ids) > POSTS_MAX:
            raise self._forbidden(
                f"Ticket #{target.number} would hold more than {POSTS_MAX} posts with those of #{self.number}."
            )
        if target.attachment_count + self.attachment_count > ATTACHMENTS_MAX:
            raise self._forbidden(
                f"Ticket #{target.number} would hold more than {ATTACHMENTS_MAX} files with those of #{self.number}."
            )
        self._merged(
            from_status=self.status.value, into_ticket_id=target.id, into_number=target.number, **admitted.envelope
        )

    @decision
    def absorb(self, command: MergeTicket, admitted: Admitted, source: Ticket, posts: Sequence[PostState]) -> None:
        """The target side of a merge, once ``source.merge_into`` accepted it (its actor handles this ticket too):
        the source's posts join this ticket's timeline."""
        self._posts_merged(from_ticket_id=source.id, from_number=source.number, posts=list(posts), **admitted.envelope)

    # -- reading -----------------------------------------------------------------------------------------

    @property
    def status(self) -> Status:
        return Status(self.__dict__["status"])

    @status.setter
    def status(self, status: Status) -> None:
        self.__dict__["status"] = status.value  # its plain value: the shape snapshots have always stored

    @property
    def shown_status(self) -> str:
        """The status as people see it: the provider's label, or the canonical name."""
        return self.status_label or self.status.value

    @property
    def requester_id(self) -> str:
        account_id: str = self.requester["account_id"]
        return account_id

    @property
    def handler_id(self) -> str:
        """The organisation the ticket is addressed to; for a ticket opened before the directory, its tenant's
        provider."""
        return self.handling_organisation_id or self.tenant

    def side_for(self, reach: Reach) -> Side | None:
        """The side a caller of ``reach`` speaks for on this ticket, or None when it may not see it."""
        return reach.side(
            tenant=self.tenant,
            requester_id=self.requester_id,
            handling_organisation_id=self.handling_organisation_id,
            department=self.department,
        )

    @contextlib.contextmanager
    def _about_this_ticket(self) -> Iterator[None]:
        """A refusal of ``domain.addressing``, told with this ticket's status and version."""
        try:
            yield
        except InvalidCommand as invalid:
            raise InvalidCommand(
                invalid.detail, field=invalid.field or "", current_status=self.status, current_version=self.version
            ) from None

    def _forbidden(self, detail: str) -> TransitionForbidden:
        return TransitionForbidden(detail, current_status=self.status, current_version=self.version)

    def _refuse_past_bounds(self, side: Side, *, now: datetime) -> None:
        if len(self.post_ids) >= POSTS_MAX:
            raise self._forbidden(
                f"Ticket #{self.number} holds {POSTS_MAX} posts, as many as a ticket takes; open a new ticket."
            )
        if side is not Side.REQUESTER:
            return
        wait = seconds_until_requester_may_post(self.requester_burst, now=now)
        if wait is not None:
            raise PostingTooFast(
                f"{REQUESTER_BURST_MAX} replies were posted to ticket #{self.number} within a minute; "
                f"post again in {wait} s, or wait for the support team's answer.",
                retry_after=wait,
                current_status=self.status,
                current_version=self.version,
            )

    def _check_requester_cc(self, cc: Sequence[str]) -> None:
        """The requesting side keeps at most a few CC recipients; it may always take addresses off the list."""
        if len(cc) > CC_MAX_BY_REQUESTER and not set(cc) <= set(self.cc):
            raise InvalidCommand(
                f"A customer sets at most {CC_MAX_BY_REQUESTER} CC recipients, not {len(cc)}; "
                "the support team may add more.",
                field="cc",
                current_status=self.status,
                current_version=self.version,
            )

    def _refuse_if_merged(self) -> None:
        if self.merged_into is not None:
            raise self._forbidden(f"Ticket #{self.number} was merged into another ticket; continue there.")

    def _check_settable(self, status: Status, side: Side) -> None:
        allowed = SET_BY_HANDLER if side is Side.HANDLER else SET_BY_REQUESTER
        if status not in allowed:
            names = ", ".join(sorted(s.value for s in allowed))
            raise self._forbidden(f"The {side.value} side may set the status only to {names}, not {status.value}.")

    def _change_status(
        self, to_status: Status, label: str | None, reason: str | None, envelope: dict[str, Any]
    ) -> None:
        if to_status is not self.status or label != self.status_label:
            self._status_changed(
                from_status=self.status.value, to_status=to_status.value, status_label=label, reason=reason, **envelope
            )

    # -- records -----------------------------------------------------------------------------------------

    class ReplyPosted(Aggregate.Event):
        post_id: str
        body: str
        visibility: str
        attachments: list[AttachmentState]
        side: str
        actor: ActorState
        command_id: str
        class_version = 2  # version 2 added the post's files

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["attachments"] = []  # posted before files could be attached

    @event(ReplyPosted)
    def _reply_posted(
        self,
        *,
        post_id: str,
        body: str,
        visibility: str,
        attachments: list[AttachmentState],
        side: str,
        actor: ActorState,
        command_id: str,
        timestamp: datetime | None,  # the event's own time, which every event stores: given, or now
    ) -> None:
        self.post_ids.append(post_id)
        self.attachment_count += len(attachments)
        if side == Side.REQUESTER.value and timestamp is not None:  # always has it once recorded
            self.requester_burst = burst_after(self.requester_burst, timestamp)
        elif visibility == Visibility.PUBLIC.value:
            self.requester_burst = []  # the handling side answered: the requesting side's count starts afresh
        if side == Side.HANDLER.value and visibility == Visibility.PUBLIC.value and self.status is Status.ANSWERED:
            self.answered_version = self.version + 1  # answered again: the requester's wait starts over

    class StatusChanged(Aggregate.Event):
        from_status: str
        to_status: str
        status_label: str | None
        reason: str | None
        side: str
        actor: ActorState
        command_id: str
        class_version = 2  # version 2 added the provider's status label

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["status_label"] = None  # labels came with version 2

    @event(StatusChanged)
    def _status_changed(
        self,
        *,
        from_status: str,
        to_status: str,
        status_label: str | None,
        reason: str | None,
        side: str,
        actor: ActorState,
        command_id: str,
    ) -> None:
        self.status = Status(to_status)
        self.status_label = status_label
        if to_status == Status.ANSWERED.value:
            self.answered_version = self.version + 1
        if to_status != Status.RESOLVED.value:
            self.rated = False  # a new resolution may be rated again

    class Closed(Aggregate.Event):
        from_status: str
        reason: str | None
        automatic: bool
        side: str
        actor: ActorState
        command_id: str
        class_version = 2  # version 2 told automatic closes apart

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["automatic"] = False

    @event(Closed)
    def _closed(
        self, *, from_status: str, reason: str | None, automatic: bool, side: str, actor: ActorState, command_id: str
    ) -> None:
        self.status = Status.CLOSED
        self.status_label = None
        self.archived = True

    @event("Reopened")
    def _reopened(self, *, from_status: str, reason: str | None, side: str, actor: ActorState, command_id: str) -> None:
        self.status = Status.OPEN
        self.status_label = None
        self.archived = False
        self.rated = False

    @event("Assigned")
    def _assigned(
        self,
        *,
        assignee: dict[str, Any] | None,
        from_assignee: dict[str, Any] | None,
        side: str,
        actor: ActorState,
        command_id: str,
    ) -> None:
        self.assignee = assignee

    @event("PriorityChanged")
    def _priority_changed(
        self, *, from_priority: str, to_priority: str, side: str, actor: ActorState, command_id: str
    ) -> None:
        self.priority = to_priority

    @event("DepartmentChanged")
    def _department_changed(
        self, *, from_department: str | None, to_department: str, side: str, actor: ActorState, command_id: str
    ) -> None:
        self.department = to_department

    @event("CategoryChanged")
    def _category_changed(
        self, *, from_category: str | None, to_category: str, side: str, actor: ActorState, command_id: str
    ) -> None:
        self.category = to_category

    @event("CcChanged")
    def _cc_changed(self, *, from_cc: list[str], cc: list[str], side: str, actor: ActorState, command_id: str) -> None:
        self.cc = list(cc)

    @event("TagsChanged")
    def _tags_changed(
        self, *, from_tags: list[str], tags: list[str], side: str, actor: ActorState, command_id: str
    ) -> None:
        self.tags = list(tags)

    @event("Rated")
    def _rated(self, *, rating: str, comment: str | None, side: str, actor: ActorState, command_id: str) -> None:
        self.rating = {"rating": rating, "comment": comment}
        self.rated = True

    @event("Archived")
    def _archived(self, *, status: str, side: str, actor: ActorState, command_id: str) -> None:
        self.archived = True

    @event("Merged")
    def _merged(
        self,
        *,
        from_status: str,
        into_ticket_id: UUID,
        into_number: int,
        side: str,
        actor: ActorState,
        command_id: str,
    ) -> None:
        self.status = Status.CLOSED
        self.status_label = None
        self.archived = True
        self.merged_into = str(into_ticket_id)

    class PostsMerged(Aggregate.Event):
        from_ticket_id: UUID
        from_number: int
        posts: list[PostState]
        side: str
        actor: ActorState
        command_id: str
        class_version = 2  # version 2 added each post's files

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            for post in state["posts"]:
                post.setdefault("attachments", [])  # merged before files could be attached

    @event(PostsMerged)
    def _posts_merged(
        self,
        *,
        from_ticket_id: UUID,
        from_number: int,
        posts: list[PostState],
        side: str,
        actor: ActorState,
        command_id: str,
    ) -> None:
        self.post_ids.extend(post["post_id"] for post in posts)
        self.attachment_count += attachment_count(posts)
