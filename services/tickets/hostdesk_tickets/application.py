"""The tickets application: loads a ticket, lets it decide, saves what it recorded, and says what became
of the command. Synchronous, as the eventsourcing library is: callers run it in a worker thread."""

from __future__ import annotations

import logging
import random
import time
from typing import Protocol, TypeAlias
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from hostdesk_contracts.commands import CloseTicket, OpenTicket, PostReply
from hostdesk_contracts.outcomes import CommandOutcome

from hostdesk_tickets.domain.errors import TicketNotFound, TicketRefusal
from hostdesk_tickets.domain.numbers import ticket_number
from hostdesk_tickets.domain.ticket import Ticket

log = logging.getLogger(__name__)

AnyCommand: TypeAlias = OpenTicket | PostReply | CloseTicket
CONFLICT_ATTEMPTS = 5


class NumberAllocator(Protocol):
    def next_value(self) -> int:
        """The next value of the ticket-number sequence (1, 2, 3...; gaps allowed)."""
        ...

    def close(self) -> None: ...


class TicketsApplication(Application[UUID]):
    name = "Tickets"  # the tables are tickets_events and tickets_snapshots
    # A snapshot every 50 events: loading any ticket reads one snapshot and at most 49 events.
    snapshotting_intervals = {Ticket: 50}

    def __init__(self, *, numbers: NumberAllocator, env: dict[str, str] | None = None) -> None:
        super().__init__(env=env)
        self.numbers = numbers

    def close(self) -> None:
        super().close()
        self.numbers.close()

    def handle(self, command: AnyCommand) -> CommandOutcome:
        """Apply ``command`` once. A concurrent writer's conflict re-runs the whole decision on fresh state.

        Raises ``TicketNotFound`` for a ticket that does not exist (yet): the caller decides whether to
        wait for it or to refuse.
        """
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return self._decide_and_save(command)
            except TicketNotFound:
                raise
            except TicketRefusal as refusal:
                return _refused(command, refusal)
            except IntegrityError:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                log.info("ticket %s changed meanwhile; deciding again", command.ticket_id)
                time.sleep(0.005 * attempt * random.random())
        raise AssertionError("unreachable")

    def get_ticket(self, ticket_id: UUID, version: int | None = None) -> Ticket:
        try:
            ticket: Ticket = self.repository.get(ticket_id, version=version)
        except AggregateNotFoundError:
            raise TicketNotFound(ticket_id) from None
        return ticket

    def _decide_and_save(self, command: AnyCommand) -> CommandOutcome:
        if isinstance(command, OpenTicket):
            return self._open(command)
        ticket = self.get_ticket(command.ticket_id)
        if isinstance(command, PostReply):
            ticket.reply(command)
        else:
            ticket.close(command)
        self.save(ticket)
        return _committed(command, ticket)

    def _open(self, command: OpenTicket) -> CommandOutcome:
        # Save first, look later: a new ticket costs no read, and its id (derived from the command id) makes
        # a second save of the same open fail, whereupon the ticket stored the first time answers.
        ticket = Ticket.open(command, number=ticket_number(self.numbers.next_value()))
        try:
            self.save(ticket)
        except IntegrityError:
            ticket = self.get_ticket(command.ticket_id)
        return _committed(command, ticket)


def _committed(command: AnyCommand, ticket: Ticket) -> CommandOutcome:
    return CommandOutcome(
        command_id=command.command_id,
        account_id=command.actor.account_id,
        ticket_id=ticket.id,
        result="committed",
        version=ticket.applied.get(command.command_id, ticket.version),
        number=ticket.number,
    )


def _refused(command: AnyCommand, refusal: TicketRefusal) -> CommandOutcome:
    return CommandOutcome(
        command_id=command.command_id,
        account_id=command.actor.account_id,
        ticket_id=command.ticket_id,
        result="refused",
        refusal=refusal.refusal,
        detail=refusal.detail,
        current_status=refusal.current_status,
        current_version=refusal.current_version,
    )


def refused_not_found(command: AnyCommand) -> CommandOutcome:
    return _refused(command, TicketNotFound(command.ticket_id))
