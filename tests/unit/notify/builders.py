"""Ready-made ticket events for notify's tests: one ticket's story, version by version."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from hostdesk_contracts.base import Actor, Assignee, Channel, Priority, Rating, Role, Side, Status, Visibility
from hostdesk_contracts.events import (
    CategoryChanged,
    CcChanged,
    DepartmentChanged,
    MergedPost,
    PostsMerged,
    PriorityChanged,
    ReplyPosted,
    StatusChanged,
    TagsChanged,
    TicketArchived,
    TicketAssigned,
    TicketClosed,
    TicketEvent,
    TicketMerged,
    TicketOpened,
    TicketRated,
    TicketReopened,
    event_id_of,
)
from hostdesk_notify.domain.contacts import TicketContact

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
REQUESTER_EMAIL = "jo@example.com"
CC = ("boss@example.com", "ops@example.com")


def customer(tenant: str, *, email: str | None = REQUESTER_EMAIL) -> Actor:
    return Actor(account_id="cust-1", tenant=tenant, role=Role.CUSTOMER, email=email)


def agent(tenant: str) -> Actor:
    return Actor(account_id="agent-1", tenant=tenant, role=Role.AGENT, display_name="Sam", email="sam@hostdesk.test")


def system(tenant: str) -> Actor:
    return Actor(account_id="system", tenant=tenant, role=Role.SYSTEM, display_name="HostDesk")


ASSIGNEE_EMAIL = "kim@hostdesk.test"


@dataclass
class TicketStory:
    """Events of one ticket; each call makes the next version."""

    tenant: str = "acme"
    number: int = 482913
    subject: str = "Website down"
    ticket_id: UUID = field(default_factory=uuid.uuid4)
    version: int = 0

    def _envelope(self, actor: Actor, side: Side) -> dict[str, object]:
        self.version += 1
        return {
            "event_id": event_id_of(self.ticket_id, self.version),
            "ticket_id": self.ticket_id,
            "tenant": self.tenant,
            "version": self.version,
            "occurred_at": NOW,
            "actor": actor,
            "side": side,
        }

    def contact(
        self,
        *,
        requester_email: str | None = REQUESTER_EMAIL,
        cc: tuple[str, ...] = CC,
        assignee_email: str | None = None,
    ) -> TicketContact:
        """What notify remembers of this ticket at its current version."""
        return TicketContact(
            ticket_id=self.ticket_id,
            tenant=self.tenant,
            number=self.number,
            subject=self.subject,
            requester_email=requester_email,
            cc=cc,
            assignee_id=None if assignee_email is None else "agent-2",
            assignee_email=assignee_email,
            version=max(self.version, 1),
        )

    def opened(self, *, requester_email: str | None = REQUESTER_EMAIL, cc: tuple[str, ...] = CC) -> TicketOpened:
        requester = customer(self.tenant, email=requester_email)
        return TicketOpened(
            **self._envelope(requester, Side.REQUESTER),
            number=self.number,
            subject=self.subject,
            body="example.com answers 502 since this morning.",
            post_id=str(uuid.uuid4()),
            requester=requester,
            status=Status.OPEN,
            priority=Priority.NORMAL,
            channel=Channel.WEB,
            cc=cc,
        )

    def staff_reply(self, body: str = "We restarted the web server; it answers again.") -> ReplyPosted:
        return self._reply(agent(self.tenant), Side.HANDLER, Visibility.PUBLIC, body)

    def internal_note(self, body: str = "Customer is on the legacy cluster.") -> ReplyPosted:
        return self._reply(agent(self.tenant), Side.HANDLER, Visibility.INTERNAL, body)

    def customer_reply(self, body: str = "Still down for me.") -> ReplyPosted:
        return self._reply(customer(self.tenant), Side.REQUESTER, Visibility.PUBLIC, body)

    def answered(self) -> StatusChanged:
        return StatusChanged(
            **self._envelope(agent(self.tenant), Side.HANDLER),
            from_status=Status.OPEN,
            to_status=Status.ANSWERED,
        )

    def resolved(
        self, *, label: str | None = None, reason: str | None = None, by_requester: bool = False
    ) -> StatusChanged:
        actor, side = (customer(self.tenant), Side.REQUESTER) if by_requester else (agent(self.tenant), Side.HANDLER)
        return StatusChanged(
            **self._envelope(actor, side),
            from_status=Status.ANSWERED,
            to_status=Status.RESOLVED,
            status_label=label,
            reason=reason,
        )

    def in_progress(self, label: str | None = "Validation") -> StatusChanged:
        return StatusChanged(
            **self._envelope(agent(self.tenant), Side.HANDLER),
            from_status=Status.OPEN,
            to_status=Status.IN_PROGRESS,
            status_label=label,
        )

    def closed(self, reason: str | None = None) -> TicketClosed:
        return TicketClosed(
            **self._envelope(agent(self.tenant), Side.HANDLER),
            from_status=Status.ANSWERED,
            reason=reason,
        )

    def auto_closed(self, reason: str = "No reply from the requester for 7 days") -> TicketClosed:
        return TicketClosed(
            **self._envelope(system(self.tenant), Side.HANDLER),
            from_status=Status.ANSWERED,
            reason=reason,
            automatic=True,
        )

    def reopened(self) -> TicketReopened:
        return TicketReopened(
            **self._envelope(customer(self.tenant), Side.REQUESTER),
            from_status=Status.CLOSED,
            reason="a reply was posted to the closed ticket",
        )

    def assigned(self, *, email: str | None = ASSIGNEE_EMAIL, account_id: str = "agent-2") -> TicketAssigned:
        return TicketAssigned(
            **self._envelope(agent(self.tenant), Side.HANDLER),
            assignee=Assignee(account_id=account_id, display_name="Kim", email=email),
        )

    def unassigned(self) -> TicketAssigned:
        return TicketAssigned(**self._envelope(agent(self.tenant), Side.HANDLER), assignee=None)

    def cc_changed(self, cc: tuple[str, ...], *, from_cc: tuple[str, ...] = CC) -> CcChanged:
        return CcChanged(**self._envelope(customer(self.tenant), Side.REQUESTER), from_cc=from_cc, cc=cc)

    def tags_changed(self, tags: tuple[str, ...] = ("vip", "legacy-cluster")) -> TagsChanged:
        return TagsChanged(**self._envelope(agent(self.tenant), Side.HANDLER), from_tags=(), tags=tags)

    def priority_changed(self) -> PriorityChanged:
        return PriorityChanged(
            **self._envelope(agent(self.tenant), Side.HANDLER),
            from_priority=Priority.NORMAL,
            to_priority=Priority.URGENT,
        )

    def department_changed(self) -> DepartmentChanged:
        return DepartmentChanged(
            **self._envelope(agent(self.tenant), Side.HANDLER), from_department=None, to_department="Billing"
        )

    def category_changed(self) -> CategoryChanged:
        return CategoryChanged(
            **self._envelope(agent(self.tenant), Side.HANDLER), from_category=None, to_category="Web hosting"
        )

    def rated(self) -> TicketRated:
        return TicketRated(
            **self._envelope(customer(self.tenant), Side.REQUESTER), rating=Rating.UNSATISFIED, comment="Too slow."
        )

    def archived(self) -> TicketArchived:
        return TicketArchived(**self._envelope(agent(self.tenant), Side.HANDLER), status=Status.RESOLVED)

    def merged_into(self, into: TicketStory) -> TicketMerged:
        return TicketMerged(
            **self._envelope(agent(self.tenant), Side.HANDLER),
            from_status=Status.OPEN,
            into_ticket_id=into.ticket_id,
            into_number=into.number,
        )

    def posts_merged_from(self, source: TicketStory) -> PostsMerged:
        post = MergedPost(
            post_id=str(uuid.uuid4()),
            occurred_at=NOW,
            actor=customer(self.tenant),
            side=Side.REQUESTER,
            body="The same site is down again.",
            visibility=Visibility.PUBLIC,
        )
        return PostsMerged(
            **self._envelope(agent(self.tenant), Side.HANDLER),
            from_ticket_id=source.ticket_id,
            from_number=source.number,
            posts=(post,),
        )

    def one_of_each_kind(self) -> list[TicketEvent]:
        """The ticket's story through every type of event there is, from its opening on."""
        other = TicketStory(tenant=self.tenant, number=self.number + 1)
        return [
            self.opened(),
            self.staff_reply(),
            self.internal_note(),
            self.customer_reply(),
            self.in_progress(),
            self.assigned(),
            self.priority_changed(),
            self.department_changed(),
            self.category_changed(),
            self.cc_changed(("boss@example.com",)),
            self.tags_changed(),
            self.posts_merged_from(other),
            self.resolved(),
            self.rated(),
            self.archived(),
            self.customer_reply("Sorry, one more thing."),
            self.closed(),
            self.reopened(),
            self.auto_closed(),
            self.merged_into(other),
        ]

    def _reply(self, actor: Actor, side: Side, visibility: Visibility, body: str) -> ReplyPosted:
        return ReplyPosted(
            **self._envelope(actor, side),
            post_id=str(uuid.uuid4()),
            body=body,
            visibility=visibility,
        )
