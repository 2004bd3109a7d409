"""The ticket aggregate. Public methods decide; private ``@event`` methods only record.

A recorded body is replayed on every load: it never raises, reads the clock or makes an id. Every event
records the command that caused it, so a command delivered twice is recognised and changes nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from hostdesk_contracts.base import Actor, Side, Status, Visibility
from hostdesk_contracts.commands import CloseTicket, OpenTicket, PostReply

from hostdesk_tickets.domain.access import side_of
from hostdesk_tickets.domain.errors import StaleVersion, TicketNotFound, TransitionForbidden

ActorState = dict[str, Any]


def actor_state(actor: Actor) -> ActorState:
    state: ActorState = actor.model_dump(mode="json")
    return state


class Ticket(Aggregate):
    @staticmethod
    def create_id(ticket_id: UUID) -> UUID:
        return ticket_id  # derived from the command id by intake: opening twice names one ticket

    @event("Opened")
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
        channel: str,
        cc: list[str],
        related_service: str | None,
        command_id: str,
        actor: ActorState,
    ) -> None:
        self.tenant = tenant
        self.number = number
        self.subject = subject
        self.requester = requester
        self.priority = priority
        self.department = department
        self.channel = channel
        self.cc = list(cc)
        self.related_service = related_service
        self.status = Status.OPEN.value
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
            channel=command.channel.value,
            cc=list(command.cc),
            related_service=command.related_service,
            command_id=command.command_id,
            actor=actor_state(actor),
        )

    def reply(self, command: PostReply) -> None:
        side = self._admit(command.actor, command.expected_version)
        if command.command_id in self.applied:
            return
        internal = command.visibility is Visibility.INTERNAL
        if internal and side is Side.REQUESTER:
            raise TransitionForbidden("Only the handling side writes internal notes.", current_status=self.state)
        common: dict[str, Any] = {
            "side": side.value,
            "actor": actor_state(command.actor),
            "command_id": command.command_id,
        }
        reopens = self.state is Status.CLOSED and not internal
        if reopens:
            self._reopened(from_status=self.status, reason="a reply was posted to the closed ticket", **common)
        self._reply_posted(post_id=command.command_id, body=command.body, visibility=command.visibility.value, **common)
        if internal:
            return  # an internal note changes no status
        if side is Side.HANDLER:
            self._change_status(Status.ANSWERED, **common)
        elif not reopens:  # a reopened ticket waits for staff as "open"
            self._change_status(Status.CUSTOMER_REPLY, **common)

    def close(self, command: CloseTicket) -> None:
        side = self._admit(command.actor, command.expected_version)
        if command.command_id in self.applied:
            return
        if self.state is Status.CLOSED:
            raise TransitionForbidden(f"Ticket #{self.number} is already closed.", current_status=self.state)
        self._closed(
            from_status=self.status,
            reason=command.reason,
            side=side.value,
            actor=actor_state(command.actor),
            command_id=command.command_id,
        )

    @property
    def state(self) -> Status:
        return Status(self.status)

    @property
    def requester_id(self) -> str:
        account_id: str = self.requester["account_id"]
        return account_id

    def _admit(self, actor: Actor, expected_version: int | None) -> Side:
        side = side_of(actor, tenant=self.tenant, requester_id=self.requester_id)
        if side is None:
            raise TicketNotFound(self.id)
        if expected_version is not None and expected_version != self.version:
            raise StaleVersion(
                f"The ticket is at version {self.version}, not {expected_version}.",
                current_status=self.state,
                current_version=self.version,
            )
        return side

    def _change_status(self, to_status: Status, **common: Any) -> None:
        if to_status is not self.state:
            self._status_changed(from_status=self.status, to_status=to_status.value, reason=None, **common)

    # -- records -----------------------------------------------------------------------------------------

    def _mark(self, command_id: str) -> None:
        self.applied[command_id] = self.version + 1  # the version this event gives the ticket

    @event("ReplyPosted")
    def _reply_posted(
        self, *, post_id: str, body: str, visibility: str, side: str, actor: ActorState, command_id: str
    ) -> None:
        self.post_ids.append(post_id)
        self._mark(command_id)

    @event("StatusChanged")
    def _status_changed(
        self, *, from_status: str, to_status: str, reason: str | None, side: str, actor: ActorState, command_id: str
    ) -> None:
        self.status = to_status
        self._mark(command_id)

    @event("Closed")
    def _closed(self, *, from_status: str, reason: str | None, side: str, actor: ActorState, command_id: str) -> None:
        self.status = Status.CLOSED.value
        self._mark(command_id)

    @event("Reopened")
    def _reopened(self, *, from_status: str, reason: str | None, side: str, actor: ActorState, command_id: str) -> None:
        self.status = Status.OPEN.value
        self._mark(command_id)
