"""Stories of tickets told as public events, for tests and demo data: each call is the ticket's next event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from hostdesk_contracts.base import Actor, Channel, Priority, Role, Side, Status, Visibility
from hostdesk_contracts.events import (
    ReplyPosted,
    StatusChanged,
    TicketClosed,
    TicketOpened,
    TicketReopened,
    event_id_of,
)


def account(tenant: str, role: Role = Role.CUSTOMER, *, name: str | None = None) -> Actor:
    account_id = f"{role.value}-{uuid.uuid4().hex[:8]}"
    return Actor(
        account_id=account_id,
        tenant=tenant,
        role=role,
        display_name=name or account_id,
        email=f"{account_id}@example.net",
    )


class TicketStory:
    """One ticket's events in order. Event n happens n seconds after ``start``."""

    def __init__(self, requester: Actor, *, start: datetime | None = None, ticket_id: UUID | None = None) -> None:
        self.requester = requester
        self.ticket_id = ticket_id or uuid.uuid4()
        self.start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self.version = 0
        self.status = Status.OPEN

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

    def opened(self, subject: str = "The VPS is down", body: str = "vps-1042 stopped answering.") -> TicketOpened:
        return TicketOpened(
            **self._envelope(self.requester),
            number=self.ticket_id.int % 900_000 + 100_000,
            subject=subject,
            body=body,
            post_id=f"post-{uuid.uuid4().hex[:8]}",
            requester=self.requester,
            status=Status.OPEN,
            priority=Priority.NORMAL,
            department="Technical Support",
            channel=Channel.WEB,
            cc=("boss@example.net",),
            related_service="vps-1042",
        )

    def reply(
        self, by: Actor, body: str = "Looking into it.", *, visibility: Visibility = Visibility.PUBLIC
    ) -> ReplyPosted:
        return ReplyPosted(
            **self._envelope(by),
            post_id=f"post-{uuid.uuid4().hex[:8]}",
            body=body,
            visibility=visibility,
        )

    def status_change(self, by: Actor, to: Status) -> StatusChanged:
        event = StatusChanged(**self._envelope(by), from_status=self.status, to_status=to)
        self.status = to
        return event

    def close(self, by: Actor, reason: str | None = None) -> TicketClosed:
        event = TicketClosed(**self._envelope(by), from_status=self.status, reason=reason)
        self.status = Status.CLOSED
        return event

    def reopen(self, by: Actor) -> TicketReopened:
        event = TicketReopened(**self._envelope(by), from_status=self.status)
        self.status = Status.OPEN
        return event
