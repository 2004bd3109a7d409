"""The ticket aggregate. Public methods decide; private ``@event`` methods only record.

A recorded body is replayed on every load: it never raises, reads the clock or makes an id. Every event
records the command that caused it, so a command delivered twice is recognised and changes nothing.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from hostdesk_contracts.base import Actor, Rating, Role, Side, Status, Visibility
from hostdesk_contracts.commands import (
    ArchiveTicket,
    AssignTicket,
    AutoCloseTicket,
    ChangeStatus,
    CloseTicket,
    CommandBase,
    MergeTicket,
    OpenTicket,
    PostReply,
    RateTicket,
    UpdateTicket,
)

from hostdesk_tickets.domain.access import side_of
from hostdesk_tickets.domain.errors import MergeTargetNotFound, StaleVersion, TicketNotFound, TransitionForbidden

ActorState = dict[str, Any]
PostState = dict[
    str, Any
]  # a post as PostsMerged records it: post_id, occurred_at (ISO), actor, side, body, visibility

SET_BY_HANDLER = frozenset({Status.OPEN, Status.ANSWERED, Status.IN_PROGRESS, Status.ON_HOLD, Status.RESOLVED})
SET_BY_REQUESTER = frozenset({Status.RESOLVED})
ARCHIVABLE = frozenset({Status.ANSWERED, Status.RESOLVED})
RATEABLE = frozenset({Status.RESOLVED, Status.CLOSED})


def actor_state(actor: Actor) -> ActorState:
    state: ActorState = actor.model_dump(mode="json")
    return state


class Ticket(Aggregate):
    # Version 2 added the lifecycle: category, tags, label, assignee, archive, rating, merge, auto-close.
    class_version = 2

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
    def create_id(ticket_id: UUID) -> UUID:
        return ticket_id  # derived from the command id by intake: opening twice names one ticket

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
        class_version = 2  # version 2 added category and tags

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["category"] = None
            state["tags"] = []

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
    ) -> None:
        self.tenant = tenant
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
        self.status = Status.OPEN.value
        self.status_label: str | None = None
        self.assignee: dict[str, Any] | None = None
        self.archived = False
        self.rating: dict[str, Any] | None = None
        self.rated = False  # rated since the ticket was last resolved
        self.merged_into: str | None = None
        self.answered_version: int | None = None  # the version of the answer the requester has not replied to
        self.post_ids = [post_id]
        self.applied: dict[str, int] = {command_id: 1}

    # -- decisions ---------------------------------------------------------------------------------------

    @classmethod
    def open(cls, command: OpenTicket, *, number: int) -> Ticket:
        actor = command.actor
        return cls(
            ticket_id=command.ticket_id,
            tenant=actor.tenant,
            number=number,
            subject=command.subject,
            body=command.body,
            post_id=command.command_id,
            requester=actor_state(actor),
            priority=command.priority.value,
            department=command.department,
            category=command.category,
            channel=command.channel.value,
            cc=list(command.cc),
            related_service=command.related_service,
            tags=list(command.tags),
            command_id=command.command_id,
            actor=actor_state(actor),
        )

    def reply(self, command: PostReply) -> None:
        side, common = self._admit(command)
        if command.command_id in self.applied:
            return
        self._refuse_if_merged()
        internal = command.visibility is Visibility.INTERNAL
        if internal and side is Side.REQUESTER:
            raise self._forbidden("Only the handling side writes internal notes.")
        if command.status is not None:
            if internal:
                raise self._forbidden("An internal note changes no status; post it without one.")
            self._check_settable(command.status, side)
        reopens = not internal and (self.state is Status.CLOSED or self.archived)
        if reopens:
            reason = "a reply was posted to the closed ticket" if self.state is Status.CLOSED else None
            self._reopened(
                from_status=self.status, reason=reason or "a reply was posted to the archived ticket", **common
            )
        self._reply_posted(post_id=command.command_id, body=command.body, visibility=command.visibility.value, **common)
        if internal:
            return  # an internal note changes no status
        if side is Side.HANDLER:
            self._change_status(command.status or Status.ANSWERED, command.status_label, None, common)
        elif not reopens:  # a reopened ticket waits for staff as "open"
            self._change_status(Status.CUSTOMER_REPLY, None, None, common)

    def change_status(self, command: ChangeStatus) -> None:
        side, common = self._admit(command)
        if command.command_id in self.applied:
            return
        self._refuse_if_merged()
        if self.state is Status.CLOSED:
            raise self._forbidden(f"Ticket #{self.number} is closed; a reply reopens it.")
        if self.archived:
            raise self._forbidden(f"Ticket #{self.number} is in the archive; a reply brings it back.")
        self._check_settable(command.status, side)
        if command.status is self.state and command.status_label == self.status_label:
            raise self._forbidden(f"Ticket #{self.number} is already {self.shown_status}.")
        self._status_changed(
            from_status=self.status,
            to_status=command.status.value,
            status_label=command.status_label,
            reason=command.reason,
            **common,
        )

    def close(self, command: CloseTicket) -> None:
        _, common = self._admit(command)
        if command.command_id in self.applied:
            return
        if self.state is Status.CLOSED:
            raise self._forbidden(f"Ticket #{self.number} is already closed.")
        self._closed(from_status=self.status, reason=command.reason, automatic=False, **common)

    def auto_close(self, command: AutoCloseTicket) -> None:
        """Close a ticket the requester left unanswered, unless it moved on since it was found idle."""
        _, common = self._admit(command)
        if command.command_id in self.applied:
            return
        if command.actor.role is not Role.SYSTEM:
            raise self._forbidden("Only the system closes tickets for want of a reply.")
        if self.state is not Status.ANSWERED:
            raise self._forbidden(f"Ticket #{self.number} is {self.shown_status}, no longer waiting for a reply.")
        if self.answered_version not in (None, command.answered_version):
            raise self._forbidden(f"Ticket #{self.number} was answered again at version {self.answered_version}.")
        self._closed(from_status=self.status, reason=command.reason, automatic=True, **common)

    def assign(self, command: AssignTicket) -> None:
        side, common = self._admit(command)
        if command.command_id in self.applied:
            return
        if side is not Side.HANDLER:
            raise self._forbidden("Only the handling side assigns tickets.")
        assignee = None if command.assignee is None else command.assignee.model_dump(mode="json")
        if assignee != self.assignee:
            self._assigned(assignee=assignee, from_assignee=self.assignee, **common)

    def update(self, command: UpdateTicket) -> None:
        """Change the fields the command gives; one event per field that really changes."""
        side, common = self._admit(command)
        if command.command_id in self.applied:
            return
        staff_fields = (command.priority, command.department, command.category, command.tags)
        if side is Side.REQUESTER and any(field is not None for field in staff_fields):
            raise self._forbidden("The requesting side may change only the CC recipients.")
        if command.priority is not None and command.priority.value != self.priority:
            self._priority_changed(from_priority=self.priority, to_priority=command.priority.value, **common)
        if command.department is not None and command.department != self.department:
            self._department_changed(from_department=self.department, to_department=command.department, **common)
        if command.category is not None and command.category != self.category:
            self._category_changed(from_category=self.category, to_category=command.category, **common)
        if command.cc is not None and list(command.cc) != self.cc:
            self._cc_changed(from_cc=self.cc, cc=list(command.cc), **common)
        if command.tags is not None and list(command.tags) != self.tags:
            self._tags_changed(from_tags=self.tags, tags=list(command.tags), **common)

    def rate(self, command: RateTicket) -> None:
        side, common = self._admit(command)
        if command.command_id in self.applied:
            return
        if side is not Side.REQUESTER:
            raise self._forbidden("Only the requester rates the support.")
        if self.state not in RATEABLE:
            raise self._forbidden(f"Ticket #{self.number} is {self.shown_status}; rate it once it is resolved.")
        if self.rated:
            raise self._forbidden(f"Ticket #{self.number} is already rated for this resolution.")
        comment = (command.comment or "").strip() or None
        if command.rating is Rating.UNSATISFIED and comment is None:
            raise self._forbidden("An unsatisfied rating needs a written complaint.")
        self._rated(rating=command.rating.value, comment=comment, **common)

    def archive(self, command: ArchiveTicket) -> None:
        _, common = self._admit(command)
        if command.command_id in self.applied:
            return
        if self.archived:
            raise self._forbidden(f"Ticket #{self.number} is already in the archive.")
        if self.state not in ARCHIVABLE:
            raise self._forbidden(
                f"Ticket #{self.number} is {self.shown_status}: only answered or resolved tickets can be archived."
            )
        self._archived(status=self.status, **common)

    def merge_into(self, command: MergeTicket, target: Ticket) -> None:
        """The source side of a merge: closed, archived, and linked to ``target``. Every check of both sides
        is made here, before anything is recorded on either."""
        side, common = self._admit(command)
        if command.command_id in self.applied:
            return
        if side is not Side.HANDLER:
            raise self._forbidden("Only the handling side merges tickets.")
        if side_of(command.actor, tenant=target.tenant, requester_id=target.requester_id) is not Side.HANDLER:
            raise MergeTargetNotFound(target.id)
        if target.id == self.id:
            raise self._forbidden("A ticket cannot be merged into itself.")
        self._refuse_if_merged()
        if target.merged_into is not None:
            raise self._forbidden(f"Ticket #{target.number} was itself merged; merge into the ticket it went into.")
        self._merged(from_status=self.status, into_ticket_id=target.id, into_number=target.number, **common)

    def absorb(self, command: MergeTicket, source: Ticket, posts: Sequence[PostState]) -> None:
        """The target side of a merge, once ``source.merge_into`` accepted it: the source's posts join this
        ticket's timeline. The command's expected version is the source's, not this ticket's."""
        if command.command_id in self.applied:
            return
        common: dict[str, Any] = {
            "side": Side.HANDLER.value,
            "actor": actor_state(command.actor),
            "command_id": command.command_id,
        }
        self._posts_merged(from_ticket_id=source.id, from_number=source.number, posts=list(posts), **common)

    # -- reading -----------------------------------------------------------------------------------------

    @property
    def state(self) -> Status:
        return Status(self.status)

    @property
    def shown_status(self) -> str:
        """The status as people see it: the provider's label, or the canonical name."""
        return self.status_label or self.status

    @property
    def requester_id(self) -> str:
        account_id: str = self.requester["account_id"]
        return account_id

    def _admit(self, command: CommandBase) -> tuple[Side, dict[str, Any]]:
        """The side ``command``'s actor speaks for, and the fields every event of the command records."""
        side = side_of(command.actor, tenant=self.tenant, requester_id=self.requester_id)
        if side is None:
            raise TicketNotFound(self.id)
        expected = command.expected_version
        if expected is not None and expected != self.version and command.command_id not in self.applied:
            raise StaleVersion(
                f"The ticket is at version {self.version}, not {expected}.",
                current_status=self.state,
                current_version=self.version,
            )
        return side, {"side": side.value, "actor": actor_state(command.actor), "command_id": command.command_id}

    def _forbidden(self, detail: str) -> TransitionForbidden:
        return TransitionForbidden(detail, current_status=self.state, current_version=self.version)

    def _refuse_if_merged(self) -> None:
        if self.merged_into is not None:
            raise self._forbidden(f"Ticket #{self.number} was merged into another ticket; continue there.")

    def _check_settable(self, status: Status, side: Side) -> None:
        allowed = SET_BY_HANDLER if side is Side.HANDLER else SET_BY_REQUESTER
        if status not in allowed:
            names = ", ".join(sorted(s.value for s in allowed))
            raise self._forbidden(f"The {side.value} side may set the status only to {names}, not {status.value}.")

    def _change_status(self, to_status: Status, label: str | None, reason: str | None, common: dict[str, Any]) -> None:
        if to_status is not self.state or label != self.status_label:
            self._status_changed(
                from_status=self.status, to_status=to_status.value, status_label=label, reason=reason, **common
            )

    # -- records -----------------------------------------------------------------------------------------

    def _mark(self, command_id: str) -> None:
        self.applied[command_id] = self.version + 1  # the version this event gives the ticket

    @event("ReplyPosted")
    def _reply_posted(
        self, *, post_id: str, body: str, visibility: str, side: str, actor: ActorState, command_id: str
    ) -> None:
        self.post_ids.append(post_id)
        if (
            side == Side.HANDLER.value
            and visibility == Visibility.PUBLIC.value
            and self.status == Status.ANSWERED.value
        ):
            self.answered_version = self.version + 1  # answered again: the requester's wait starts over
        self._mark(command_id)

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
        self.status = to_status
        self.status_label = status_label
        if to_status == Status.ANSWERED.value:
            self.answered_version = self.version + 1
        if to_status != Status.RESOLVED.value:
            self.rated = False  # a new resolution may be rated again
        self._mark(command_id)

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
        self.status = Status.CLOSED.value
        self.status_label = None
        self.archived = True
        self._mark(command_id)

    @event("Reopened")
    def _reopened(self, *, from_status: str, reason: str | None, side: str, actor: ActorState, command_id: str) -> None:
        self.status = Status.OPEN.value
        self.status_label = None
        self.archived = False
        self.rated = False
        self._mark(command_id)

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
        self._mark(command_id)

    @event("PriorityChanged")
    def _priority_changed(
        self, *, from_priority: str, to_priority: str, side: str, actor: ActorState, command_id: str
    ) -> None:
        self.priority = to_priority
        self._mark(command_id)

    @event("DepartmentChanged")
    def _department_changed(
        self, *, from_department: str | None, to_department: str, side: str, actor: ActorState, command_id: str
    ) -> None:
        self.department = to_department
        self._mark(command_id)

    @event("CategoryChanged")
    def _category_changed(
        self, *, from_category: str | None, to_category: str, side: str, actor: ActorState, command_id: str
    ) -> None:
        self.category = to_category
        self._mark(command_id)

    @event("CcChanged")
    def _cc_changed(self, *, from_cc: list[str], cc: list[str], side: str, actor: ActorState, command_id: str) -> None:
        self.cc = list(cc)
        self._mark(command_id)

    @event("TagsChanged")
    def _tags_changed(
        self, *, from_tags: list[str], tags: list[str], side: str, actor: ActorState, command_id: str
    ) -> None:
        self.tags = list(tags)
        self._mark(command_id)

    @event("Rated")
    def _rated(self, *, rating: str, comment: str | None, side: str, actor: ActorState, command_id: str) -> None:
        self.rating = {"rating": rating, "comment": comment}
        self.rated = True
        self._mark(command_id)

    @event("Archived")
    def _archived(self, *, status: str, side: str, actor: ActorState, command_id: str) -> None:
        self.archived = True
        self._mark(command_id)

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
        self.status = Status.CLOSED.value
        self.status_label = None
        self.archived = True
        self.merged_into = str(into_ticket_id)
        self._mark(command_id)

    @event("PostsMerged")
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
        self._mark(command_id)
