"""The tickets application: loads a ticket, lets it decide, saves what it recorded, and says what became
of the command. Synchronous, as the eventsourcing library is: callers run it in a worker thread."""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from hostdesk_contracts.commands import (
    AnyCommand,
    ArchiveTicket,
    AssignTicket,
    AutoCloseTicket,
    ChangeStatus,
    CloseTicket,
    MergeTicket,
    OpenTicket,
    PostReply,
    RateTicket,
    UpdateTicket,
)
from hostdesk_contracts.directory import AnyDirectoryCommand, Configure, PutAccount, PutApiKey, PutStaff
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.runtime.clock import Clock, utc_now

from hostdesk_tickets.adapters.ticket_numbers import NumberAllocator
from hostdesk_tickets.domain.directory import decide as decide_directory
from hostdesk_tickets.domain.directory_records import DIRECTORY_AGGREGATES
from hostdesk_tickets.domain.errors import DirectoryRefusal, MergeTargetNotFound, TicketNotFound, TicketRefusal
from hostdesk_tickets.domain.numbers import ticket_number
from hostdesk_tickets.domain.ticket import PostState, Ticket
from hostdesk_tickets.service_layer import directory

log = logging.getLogger(__name__)

CONFLICT_ATTEMPTS = 5
SNAPSHOT_EVERY = 50

Command = AnyCommand | AnyDirectoryCommand
DIRECTORY_COMMANDS = (PutAccount, PutStaff, Configure, PutApiKey)


class TicketsApplication(Application[UUID]):
    name = "Tickets"  # the tables are tickets_events and tickets_snapshots
    # A snapshot every 50 events: loading any ticket (or directory record) reads one snapshot and at most 49 events.
    snapshotting_intervals = {Ticket: SNAPSHOT_EVERY, **dict.fromkeys(DIRECTORY_AGGREGATES, SNAPSHOT_EVERY)}

    def __init__(self, *, numbers: NumberAllocator, env: dict[str, str] | None = None, clock: Clock = utc_now) -> None:
        super().__init__(env=env)
        self.numbers = numbers
        self.clock = clock  # the time of a post, by which the ticket counts how fast its requester posts

    def close(self) -> None:
        super().close()
        self.numbers.close()

    def handle(self, command: AnyCommand) -> CommandOutcome:
        """Apply ``command`` once. A concurrent writer's conflict re-runs the whole decision on fresh state.

        Raises ``TicketNotFound`` for a ticket that does not exist (yet): the caller decides whether to
        wait for it or to refuse.
        """
        return self._retrying(lambda: self._decide_or_refuse(command), what=f"ticket {command.ticket_id}")

    def handle_directory(self, command: AnyDirectoryCommand) -> CommandOutcome:
        """Put the record ``command`` names, once, by the directory's rules (``domain.directory``); a record
        changed meanwhile is decided again on its fresh state, as a ticket is."""
        return self._retrying(lambda: self._put_record(command), what=command.key)

    def _retrying(self, attempt: Callable[[], CommandOutcome], *, what: str) -> CommandOutcome:
        for number in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return attempt()
            except IntegrityError:
                if number == CONFLICT_ATTEMPTS:
                    raise
                log.info("%s changed meanwhile; deciding again", what)
                time.sleep(0.005 * number * random.random())
        raise AssertionError("unreachable")

    def _decide_or_refuse(self, command: AnyCommand) -> CommandOutcome:
        try:
            return self._decide_and_save(command)
        except TicketNotFound:
            raise
        except TicketRefusal as refusal:
            return _refused(command, refusal)

    def _put_record(self, command: AnyDirectoryCommand) -> CommandOutcome:
        try:
            entry = decide_directory(directory.StoredDirectory(self.repository), command)
        except DirectoryRefusal as refusal:
            return directory.refused(command, refusal)
        if entry.pending_events:
            self.save(entry)
        return directory.committed(command, entry)

    def handle_batch(self, commands: Sequence[Command]) -> list[CommandOutcome | TicketNotFound]:
        """Apply a batch of commands in order; what each run of ticket commands records is stored in one
        transaction, and each directory command is put on its own where it stands, so the log keeps the order the
        commands came in (an account before the first ticket it opens)."""
        results: list[CommandOutcome | TicketNotFound] = []
        for _, run in itertools.groupby(commands, key=lambda command: isinstance(command, DIRECTORY_COMMANDS)):
            same_kind = list(run)
            tickets = [command for command in same_kind if not isinstance(command, DIRECTORY_COMMANDS)]
            if tickets:
                results.extend(self._handle_tickets(tickets))
            results.extend(self.handle_directory(c) for c in same_kind if isinstance(c, DIRECTORY_COMMANDS))
        return results

    def _handle_tickets(self, commands: Sequence[AnyCommand]) -> list[CommandOutcome | TicketNotFound]:
        """Apply a batch of ticket commands in order and store all they record in one transaction (group commit).

        One transaction and one table lock for the batch instead of one each: what lets a single writer keep
        up with many callers. When the batch's save conflicts (an open delivered again, another replica
        writing one of its tickets), nothing of it was stored, and each command is applied again on its own.
        Each result is the command's outcome, or ``TicketNotFound`` for a ticket that does not exist (yet).
        """
        try:
            return self._decide_batch(commands)
        except IntegrityError:
            log.info("a batch of %d commands conflicted; applying them one by one", len(commands))
            return [self._handle_alone(command) for command in commands]

    def _handle_alone(self, command: AnyCommand) -> CommandOutcome | TicketNotFound:
        try:
            return self.handle(command)
        except TicketNotFound as missing:
            return missing

    def _decide_batch(self, commands: Sequence[AnyCommand]) -> list[CommandOutcome | TicketNotFound]:
        opens = sum(isinstance(command, OpenTicket) for command in commands)
        numbers = iter(self.numbers.next_values(opens)) if opens else iter(())
        touched: dict[UUID, Ticket] = {}
        decided: list[TicketRefusal | Ticket] = []
        for command in commands:
            try:
                decided.append(self._decide(command, touched, numbers))
            except TicketRefusal as refusal:
                decided.append(refusal)
        self.save(*touched.values())
        return [_result(command, outcome) for command, outcome in zip(commands, decided, strict=True)]

    def _decide(self, command: AnyCommand, touched: dict[UUID, Ticket], numbers: Iterator[int]) -> Ticket:
        """Let the ticket decide ``command``, keeping it in ``touched`` for the batch's single save."""
        ticket = touched.get(command.ticket_id)
        if isinstance(command, OpenTicket):
            if ticket is None:
                ticket = Ticket.open(command, number=ticket_number(next(numbers)))
        else:
            ticket = ticket or self.get_ticket(command.ticket_id)
            if isinstance(command, MergeTicket):
                target = touched.get(command.into_ticket_id) or self._merge_target(command)
                self._merge(command, ticket, target)
                touched[target.id] = target
            else:
                _apply(ticket, command, now=self.clock())
        touched[command.ticket_id] = ticket
        return ticket

    def get_ticket(self, ticket_id: UUID, version: int | None = None) -> Ticket:
        try:
            ticket: Ticket = self.repository.get(ticket_id, version=version)
        except AggregateNotFoundError:
            raise TicketNotFound(ticket_id) from None
        return ticket

    def version_at(self, ticket_id: UUID, moment: datetime) -> int | None:
        """The ticket's version at ``moment``: that of its last event recorded then, or None if it did not exist."""
        version: int | None = None
        for stored in self.repository.event_store.get(ticket_id):
            if stored.timestamp > moment:  # type: ignore[attr-defined]
                break
            version = stored.originator_version
        return version

    def posts_of(self, ticket: Ticket) -> list[PostState]:
        """Every post of ``ticket`` (its own and those merged into it), oldest first, as a merge records them."""
        posts: list[PostState] = []
        for stored in self.repository.event_store.get(ticket.id, lte=ticket.version):
            if isinstance(stored, Ticket.Opened | Ticket.ReplyPosted):  # type: ignore[attr-defined]
                posts.append(
                    {
                        "post_id": stored.post_id,
                        "occurred_at": stored.timestamp.isoformat(),
                        "actor": stored.actor,
                        "side": getattr(stored, "side", "requester"),
                        "body": stored.body,
                        "visibility": getattr(stored, "visibility", "public"),
                    }
                )
            elif isinstance(stored, Ticket.PostsMerged):  # type: ignore[attr-defined]
                posts.extend(stored.posts)
        return sorted(posts, key=lambda post: post["occurred_at"])

    def _merge_target(self, command: MergeTicket) -> Ticket:
        try:
            return self.get_ticket(command.into_ticket_id)
        except TicketNotFound:
            # The target is not the caller's to see, or does not exist: a refusal, never a wait.
            raise MergeTargetNotFound(command.into_ticket_id) from None

    def _merge(self, command: MergeTicket, source: Ticket, target: Ticket) -> None:
        if command.command_id in source.applied:
            return
        source.merge_into(command, target)
        target.absorb(command, source, self.posts_of(source))

    def _decide_and_save(self, command: AnyCommand) -> CommandOutcome:
        if isinstance(command, OpenTicket):
            return self._open(command)
        ticket = self.get_ticket(command.ticket_id)
        if isinstance(command, MergeTicket):
            target = self._merge_target(command)
            self._merge(command, ticket, target)
            self.save(ticket, target)
        else:
            _apply(ticket, command, now=self.clock())
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


def _apply(ticket: Ticket, command: AnyCommand, *, now: datetime) -> None:
    """Let ``ticket`` decide, at ``now``, a command that concerns it alone."""
    match command:
        case PostReply():
            ticket.reply(command, now=now)
        case CloseTicket():
            ticket.close(command)
        case ChangeStatus():
            ticket.change_status(command)
        case AssignTicket():
            ticket.assign(command)
        case UpdateTicket():
            ticket.update(command)
        case RateTicket():
            ticket.rate(command)
        case ArchiveTicket():
            ticket.archive(command)
        case AutoCloseTicket():
            ticket.auto_close(command)
        case OpenTicket() | MergeTicket():
            raise TypeError(f"{type(command).__name__} is not decided by one existing ticket")


def _result(command: AnyCommand, decided: TicketRefusal | Ticket) -> CommandOutcome | TicketNotFound:
    if isinstance(decided, TicketNotFound):
        return decided
    if isinstance(decided, TicketRefusal):
        return _refused(command, decided)
    return _committed(command, decided)


def _committed(command: AnyCommand, ticket: Ticket) -> CommandOutcome:
    return CommandOutcome.of(
        command,
        ticket_id=ticket.id,
        result="committed",
        version=ticket.applied.get(command.command_id, ticket.version),
        number=ticket.number,
    )


def _refused(command: AnyCommand, refusal: TicketRefusal) -> CommandOutcome:
    return CommandOutcome.of(
        command,
        ticket_id=command.ticket_id,
        result="refused",
        refusal=refusal.refusal,
        detail=refusal.detail,
        current_status=refusal.current_status,
        current_version=refusal.current_version,
        field=refusal.field,
        retry_after=refusal.retry_after,
    )


def refused_not_found(command: AnyCommand) -> CommandOutcome:
    return _refused(command, TicketNotFound(command.ticket_id))
