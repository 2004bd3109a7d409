"""Stories of tickets told as public events (``hostdesk_contracts`` only), for tests, benchmarks and demo data:
each call is the ticket's next event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from uuid import UUID

from hostdesk_contracts.base import Actor, Assignee, Channel, Priority, Rating, Role, Side, Status, Visibility
from hostdesk_contracts.events import (
    AnyEvent,
    CategoryChanged,
    CcChanged,
    DepartmentChanged,
    ImportedFrom,
    MergedPost,
    PostsMerged,
    PriorityChanged,
    ReplyPosted,
    StatusChanged,
    TagsChanged,
    TicketArchived,
    TicketAssigned,
    TicketClosed,
    TicketImported,
    TicketMerged,
    TicketOpened,
    TicketRated,
    TicketReopened,
    event_id_of,
)


class Own(Enum):
    """An account's own name or address, made from its id: what ``account`` gives unless told otherwise."""

    OWN = "own"


def account(
    tenant: str, role: Role = Role.CUSTOMER, *, name: str | Own | None = Own.OWN, email: str | Own | None = Own.OWN
) -> Actor:
    """An account of ``tenant`` with an id of its own, named by that id and with an address of its own at
    example.net unless ``name`` or ``email`` says otherwise (``None``: it has none)."""
    account_id = f"{role.value}-{uuid.uuid4().hex[:8]}"
    return Actor(
        account_id=account_id,
        tenant=tenant,
        role=role,
        display_name=account_id if name is Own.OWN else name,
        email=f"{account_id}@example.net" if email is Own.OWN else email,
    )


class TicketStory:
    """One ticket's events in order. Event n happens n seconds after ``start``. Its number is drawn from its id
    unless given; its subject is the one it opens with."""

    def __init__(
        self,
        requester: Actor,
        *,
        start: datetime | None = None,
        ticket_id: UUID | None = None,
        number: int | None = None,
        subject: str = "The VPS is down",
    ) -> None:
        self.requester = requester
        self.ticket_id = ticket_id or uuid.uuid4()
        self.start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self.version = 0
        self.number = self.ticket_id.int % 900_000 + 100_000 if number is None else number
        self.subject = subject
        self.status = Status.OPEN
        self.priority = Priority.NORMAL
        self.department: str | None = "Technical Support"
        self.category: str | None = None
        self.cc: tuple[str, ...] = ("boss@example.net",)
        self.tags: tuple[str, ...] = ()
        self.assignee: Assignee | None = None
        self.posts: list[MergedPost] = []  # every post so far, as a merge into another ticket would carry it

    @property
    def tenant(self) -> str:
        return self.requester.tenant

    def _envelope(self, actor: Actor) -> dict[str, object]:
        self.version += 1
        return {
            "event_id": event_id_of(self.ticket_id, self.version),
            "ticket_id": self.ticket_id,
            "tenant": self.requester.tenant,
            "version": self.version,
            "occurred_at": self.start + timedelta(seconds=self.version),
            "actor": actor,
            "side": Side.HANDLER if actor.role.is_staff else Side.REQUESTER,
        }

    def _posted(self, event: TicketOpened | ReplyPosted, visibility: Visibility) -> None:
        self.posts.append(
            MergedPost(
                post_id=event.post_id,
                occurred_at=event.occurred_at,
                actor=event.actor,
                side=event.side,
                body=event.body,
                visibility=visibility,
            )
        )

    def opened(
        self,
        subject: str | None = None,
        body: str = "vps-1042 stopped answering.",
        *,
        category: str | None = None,
        tags: tuple[str, ...] = (),
        cc: tuple[str, ...] | None = None,
    ) -> TicketOpened:
        """The opening; ``subject`` and ``cc``, when given, replace the story's own."""
        self.category, self.tags = category, tags
        self.subject = self.subject if subject is None else subject
        self.cc = self.cc if cc is None else cc
        event = TicketOpened(
            **self._envelope(self.requester),
            number=self.number,
            subject=self.subject,
            body=body,
            post_id=f"post-{uuid.uuid4().hex[:8]}",
            requester=self.requester,
            status=Status.OPEN,
            priority=self.priority,
            department=self.department,
            category=category,
            channel=Channel.WEB,
            cc=self.cc,
            related_service="vps-1042",
            tags=tags,
        )
        self._posted(event, Visibility.PUBLIC)
        return event

    def imported(self, by: Actor, *, agent: Actor, system: str = "whmcs", source_id: str = "T-1001") -> TicketImported:
        """The ticket brought from the previous helpdesk, its two posts a month before ``start``, answered there."""
        then = self.start - timedelta(days=30)
        posts = (
            MergedPost(
                post_id=f"post-{uuid.uuid4().hex[:8]}",
                occurred_at=then,
                actor=self.requester,
                side=Side.REQUESTER,
                body="My mail bounces since the move.",
                visibility=Visibility.PUBLIC,
            ),
            MergedPost(
                post_id=f"post-{uuid.uuid4().hex[:8]}",
                occurred_at=then + timedelta(hours=3),
                actor=agent,
                side=Side.HANDLER,
                body="The SPF record is fixed.",
                visibility=Visibility.PUBLIC,
            ),
        )
        self.status = Status.ANSWERED
        event = TicketImported(
            **self._envelope(by),
            source=ImportedFrom(system=system, ticket_id=source_id),
            number=self.number,
            subject=self.subject,
            requester=self.requester,
            status=self.status,
            priority=self.priority,
            department=self.department,
            channel=Channel.EMAIL,
            cc=self.cc,
            opened_at=then,
            posts=posts,
            message_ids=(f"{source_id}-1@old-helpdesk.example",),
        )
        self.posts.extend(posts)
        return event

    def reply(
        self, by: Actor, body: str = "Looking into it.", *, visibility: Visibility = Visibility.PUBLIC
    ) -> ReplyPosted:
        event = ReplyPosted(
            **self._envelope(by),
            post_id=f"post-{uuid.uuid4().hex[:8]}",
            body=body,
            visibility=visibility,
        )
        self._posted(event, visibility)
        return event

    def status_change(
        self, by: Actor, to: Status, *, label: str | None = None, reason: str | None = None
    ) -> StatusChanged:
        event = StatusChanged(
            **self._envelope(by), from_status=self.status, to_status=to, status_label=label, reason=reason
        )
        self.status = to
        return event

    def close(self, by: Actor, reason: str | None = None, *, automatic: bool = False) -> TicketClosed:
        event = TicketClosed(**self._envelope(by), from_status=self.status, reason=reason, automatic=automatic)
        self.status = Status.CLOSED
        return event

    def reopen(self, by: Actor) -> TicketReopened:
        event = TicketReopened(**self._envelope(by), from_status=self.status)
        self.status = Status.OPEN
        return event

    def assign(self, by: Actor, to: Actor | None) -> TicketAssigned:
        assignee = (
            None if to is None else Assignee(account_id=to.account_id, display_name=to.display_name, email=to.email)
        )
        event = TicketAssigned(**self._envelope(by), assignee=assignee, from_assignee=self.assignee)
        self.assignee = assignee
        return event

    def priority_change(self, by: Actor, to: Priority) -> PriorityChanged:
        event = PriorityChanged(**self._envelope(by), from_priority=self.priority, to_priority=to)
        self.priority = to
        return event

    def department_change(self, by: Actor, to: str) -> DepartmentChanged:
        event = DepartmentChanged(**self._envelope(by), from_department=self.department, to_department=to)
        self.department = to
        return event

    def category_change(self, by: Actor, to: str) -> CategoryChanged:
        event = CategoryChanged(**self._envelope(by), from_category=self.category, to_category=to)
        self.category = to
        return event

    def cc_change(self, by: Actor, to: tuple[str, ...]) -> CcChanged:
        event = CcChanged(**self._envelope(by), from_cc=self.cc, cc=to)
        self.cc = to
        return event

    def tags_change(self, by: Actor, to: tuple[str, ...]) -> TagsChanged:
        event = TagsChanged(**self._envelope(by), from_tags=self.tags, tags=to)
        self.tags = to
        return event

    def rate(self, rating: Rating, comment: str | None = None) -> TicketRated:
        return TicketRated(**self._envelope(self.requester), rating=rating, comment=comment)

    def archive(self, by: Actor) -> TicketArchived:
        return TicketArchived(**self._envelope(by), status=self.status)

    def merge_into(self, by: Actor, target: TicketStory) -> TicketMerged:
        """This ticket's side of a merge; ``target.absorb`` tells the other side."""
        event = TicketMerged(
            **self._envelope(by), from_status=self.status, into_ticket_id=target.ticket_id, into_number=target.number
        )
        self.status = Status.CLOSED
        return event

    def absorb(self, by: Actor, source: TicketStory) -> PostsMerged:
        event = PostsMerged(
            **self._envelope(by), from_ticket_id=source.ticket_id, from_number=source.number, posts=tuple(source.posts)
        )
        self.posts.extend(source.posts)
        return event


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """A ticket taken through every kind of event, with a second ticket merged into it."""

    requester: Actor
    agent: Actor
    target: TicketStory
    source: TicketStory  # merged into ``target``; its posts fall between the target's own
    imported: TicketStory  # brought from the previous helpdesk, then answered by its requester
    events: tuple[AnyEvent, ...]  # the tickets' events, in an order the relay may publish them


def every_kind_of_event(tenant: str) -> Lifecycle:
    requester = account(tenant, name="Carol")
    agent = account(tenant, Role.AGENT, name="Alice")
    system = Actor(account_id="hostdesk", tenant=tenant, role=Role.SYSTEM)
    target = TicketStory(requester)
    # Event n of the source comes at n + 6.5 seconds: its posts land between the target's own posts.
    source = TicketStory(requester, start=target.start + timedelta(seconds=6.5))
    before_merge: list[AnyEvent] = [
        target.opened(category="Hosting", tags=("vps",)),
        target.assign(agent, agent),
        target.priority_change(agent, Priority.HIGH),
        target.department_change(agent, "Billing"),
        target.category_change(agent, "Refunds"),
        target.cc_change(agent, ("boss@example.net", "ops@example.net")),
        target.tags_change(agent, ("vps", "refund")),
        target.reply(agent, "Rebooted the host."),
        source.opened(subject="Refund please", body="The outage cost me a day."),
        target.reply(agent, "Refund once billing agrees.", visibility=Visibility.INTERNAL),
        source.reply(agent, "Billing will answer here.", visibility=Visibility.INTERNAL),
        target.status_change(agent, Status.ANSWERED),
        target.status_change(agent, Status.IN_PROGRESS, label="Validation"),
        source.merge_into(agent, target),
    ]
    after_merge: list[AnyEvent] = [
        target.absorb(agent, source),
        target.status_change(requester, Status.RESOLVED),
        target.rate(Rating.UNSATISFIED, "Two days without mail."),
        target.archive(agent),
        target.reopen(requester),
        target.reply(requester, "It is down again."),
        target.assign(agent, None),
        target.close(system, "No answer from the requester for 7 days.", automatic=True),
    ]
    supervisor = account(tenant, Role.SUPERVISOR, name="Sam")
    imported = TicketStory(requester, subject="Mail bounces", start=target.start + timedelta(seconds=30))
    brought: list[AnyEvent] = [imported.imported(supervisor, agent=agent), imported.reply(requester, "Works now.")]
    return Lifecycle(requester, agent, target, source, imported, (*before_merge, *after_merge, *brought))
