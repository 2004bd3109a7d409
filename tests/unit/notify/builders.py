"""Ready-made ticket events for notify's tests: one ticket's story, version by version."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from hostdesk_contracts.base import Actor, Channel, Priority, Role, Side, Status, Visibility
from hostdesk_contracts.events import ReplyPosted, StatusChanged, TicketClosed, TicketOpened, event_id_of
from hostdesk_notify.domain.contacts import TicketContact

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
REQUESTER_EMAIL = "jo@example.com"
CC = ("boss@example.com", "ops@example.com")


def customer(tenant: str, *, email: str | None = REQUESTER_EMAIL) -> Actor:
    return Actor(account_id="cust-1", tenant=tenant, role=Role.CUSTOMER, email=email)


def agent(tenant: str) -> Actor:
    return Actor(account_id="agent-1", tenant=tenant, role=Role.AGENT, display_name="Sam", email="sam@hostdesk.test")


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

    def contact(self, *, requester_email: str | None = REQUESTER_EMAIL, cc: tuple[str, ...] = CC) -> TicketContact:
        """What notify remembers of this ticket once it has seen it opened."""
        return TicketContact(self.ticket_id, self.tenant, self.number, self.subject, requester_email, cc)

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

    def closed(self, reason: str | None = None) -> TicketClosed:
        return TicketClosed(
            **self._envelope(agent(self.tenant), Side.HANDLER),
            from_status=Status.ANSWERED,
            reason=reason,
        )

    def _reply(self, actor: Actor, side: Side, visibility: Visibility, body: str) -> ReplyPosted:
        return ReplyPosted(
            **self._envelope(actor, side),
            post_id=str(uuid.uuid4()),
            body=body,
            visibility=visibility,
        )
