"""The tickets application: loads a ticket, lets it decide with what the directory says (``Facts``, looked up
beforehand by ``service_layer.lookups``), saves what it recorded, and says what became of the command.
Synchronous, as the eventsourcing library is: callers run it in a worker thread.

A new ticket of a department that takes turns is assigned to its next agent as part of its opening: the turn is
drawn from the ``TurnCounter`` (a PostgreSQL counter) while the open is decided, and a decision decided again
(a conflicting save) keeps the turn it drew, so a ticket opened once is assigned once, to one agent.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
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
    ImportTicket,
    MergeTicket,
    OpenTicket,
    PostReply,
    RateTicket,
    UpdateTicket,
)
from hostdesk_contracts.directory import (
    AnyDirectoryCommand,
    Configure,
    PutAccount,
    PutApiKey,
    PutStaff,
    PutSupportAddress,
)
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.runtime.clock import Clock, utc_now

from hostdesk_tickets.adapters.round_robin import CountingTurns, TurnCounter
from hostdesk_tickets.adapters.ticket_numbers import NumberAllocator
from hostdesk_tickets.domain.addressing import Opening, admit_opening
from hostdesk_tickets.domain.directory import decide as decide_directory
from hostdesk_tickets.domain.directory_records import DIRECTORY_AGGREGATES
from hostdesk_tickets.domain.errors import (
    DirectoryRefusal,
    MergeTargetNotFound,
    TicketNotFound,
    TicketRefusal,
    TransitionForbidden,
)
from hostdesk_tickets.domain.numbers import ticket_number
from hostdesk_tickets.domain.ticket import PostState, Ticket
from hostdesk_tickets.service_layer import directory
from hostdesk_tickets.service_layer.lookups import Facts

log = logging.getLogger(__name__)

CONFLICT_ATTEMPTS = 5
SNAPSHOT_EVERY = 50

Command = AnyCommand | AnyDirectoryCommand
DIRECTORY_COMMANDS = (PutAccount, PutStaff, Configure, PutApiKey, PutSupportAddress)
Turns = dict[str, int]  # the round-robin turn each open drew, by command id: kept when it is decided again


class TicketsApplication(Application[UUID]):
    name = "Tickets"  # the tables are tickets_events and tickets_snapshots
    # A snapshot every 50 events: loading any ticket (or directory record) reads one snapshot and at most 49 events.
    snapshotting_intervals = {Ticket: SNAPSHOT_EVERY, **dict.fromkeys(DIRECTORY_AGGREGATES, SNAPSHOT_EVERY)}

    def __init__(
        self,
        *,
        numbers: NumberAllocator,
        turns: TurnCounter | None = None,
        env: dict[str, str] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(env=env)
        self.numbers = numbers
        self.turns: TurnCounter = turns or CountingTurns()  # in memory unless given (the runtime gives its table)
        self.clock = clock  # the time of a post, by which the ticket counts how fast its requester posts

    def close(self) -> None:
        super().close()
        self.numbers.close()
        self.turns.close()

    def handle(self, command: AnyCommand, facts: Facts) -> CommandOutcome:
        """Apply ``command`` once, by what the directory says (``facts``). A concurrent writer's conflict re-runs
        the whole decision on fresh state.

        Raises ``TicketNotFound`` for a ticket that does not exist (yet): the caller decides whether to
        wait for it or to refuse.
        """
        return self._handle(command, facts, {})

    def _handle(self, command: AnyCommand, facts: Facts, turns: Turns) -> CommandOutcome:
        return self._retrying(lambda: self._decide_or_refuse(command, facts, turns), what=f"ticket {command.ticket_id}")

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

    def _decide_or_refuse(self, command: AnyCommand, facts: Facts, turns: Turns) -> CommandOutcome:
        try:
            return self._decide_and_save(command, facts, turns)
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

    def handle_batch(
        self, commands: Sequence[Command], facts: Mapping[str, Facts]
    ) -> list[CommandOutcome | TicketNotFound]:
        """Apply a batch of commands in order; what each run of ticket commands records is stored in one
        transaction, and each directory command is put on its own where it stands, so the log keeps the order the
        commands came in (an account before the first ticket it opens). ``facts`` holds, by command id, what the
        directory says of each ticket command."""
        results: list[CommandOutcome | TicketNotFound] = []
        for _, run in itertools.groupby(commands, key=lambda command: isinstance(command, DIRECTORY_COMMANDS)):
            same_kind = list(run)
            tickets = [command for command in same_kind if not isinstance(command, DIRECTORY_COMMANDS)]
            if tickets:
                results.extend(self._handle_tickets(tickets, facts))
            results.extend(self.handle_directory(c) for c in same_kind if isinstance(c, DIRECTORY_COMMANDS))
        return results

    def _handle_tickets(
        self, commands: Sequence[AnyCommand], facts: Mapping[str, Facts]
    ) -> list[CommandOutcome | TicketNotFound]:
        """Apply a batch of ticket commands in order and store all they record in one transaction (group commit).

        One transaction and one table lock for the batch instead of one each: what lets a single writer keep
        up with many callers. When the batch's save conflicts (an open delivered again, another replica
        writing one of its tickets), nothing of it was stored, and each command is applied again on its own.
        Each result is the command's outcome, or ``TicketNotFound`` for a ticket that does not exist (yet).
        The turns the batch's opens drew are kept for their decisions one by one.
        """
        turns: Turns = {}
        try:
            return self._decide_batch(commands, facts, turns)
        except IntegrityError:
            log.info("a batch of %d commands conflicted; applying them one by one", len(commands))
            return [self._handle_alone(command, facts[command.command_id], turns) for command in commands]

    def _handle_alone(self, command: AnyCommand, facts: Facts, turns: Turns) -> CommandOutcome | TicketNotFound:
        try:
            return self._handle(command, facts, turns)
        except TicketNotFound as missing:
            return missing

    def _decide_batch(
        self, commands: Sequence[AnyCommand], facts: Mapping[str, Facts], turns: Turns
    ) -> list[CommandOutcome | TicketNotFound]:
        opens = sum(_draws_a_number(command) for command in commands)
        numbers = iter(self.numbers.next_values(opens)) if opens else iter(())
        touched: dict[UUID, Ticket] = {}
        decided: list[TicketRefusal | Ticket] = []
        for command in commands:
            try:
                decided.append(self._decide(command, facts[command.command_id], touched, numbers, turns))
            except TicketRefusal as refusal:
                decided.append(refusal)
        self.save(*touched.values())
        return [_result(command, outcome) for command, outcome in zip(commands, decided, strict=True)]

    def _decide(
        self, command: AnyCommand, facts: Facts, touched: dict[UUID, Ticket], numbers: Iterator[int], turns: Turns
    ) -> Ticket:
        """Let the ticket decide ``command``, keeping it in ``touched`` for the batch's single save."""
        ticket = touched.get(command.ticket_id)
        if isinstance(command, OpenTicket):
            if ticket is None:
                opening = self._opening(command, facts, turns)
                ticket = Ticket.open(command, opening=opening, number=ticket_number(next(numbers)))
        elif isinstance(command, ImportTicket):
            if ticket is None:
                ticket = self._imported(command, facts, lambda: ticket_number(next(numbers)))
        else:
            ticket = ticket or self.get_ticket(command.ticket_id)
            if isinstance(command, MergeTicket):
                target = touched.get(command.into_ticket_id) or self._merge_target(command)
                self._merge(command, facts, ticket, target)
                touched[target.id] = target
            else:
                _apply(ticket, command, facts, now=self.clock())
        touched[command.ticket_id] = ticket
        return ticket

    def _opening(self, command: OpenTicket, facts: Facts, turns: Turns) -> Opening:
        """The open as the directory allows it, assigned in turn when its department takes turns. The turn is
        drawn once per open (``turns``), however often the open is decided."""
        if facts.opening is None:
            raise TypeError("an open is decided with the facts of its opening")
        opening = admit_opening(command, facts.reach, facts.opening)
        if opening.turns is None:
            return opening
        if command.command_id not in turns:
            (turns[command.command_id],) = self.turns.next_turns(
                opening.turns.organisation_id, opening.turns.department, 1
            )
        return opening.in_turn(turns[command.command_id])

    def _imported(self, command: ImportTicket, facts: Facts, new_number: Callable[[], int]) -> Ticket:
        """The ticket an import brings, admitted as an open by the handling side, under its own number when that is
        free (reserved for it, so that no ticket takes it later) or a new one."""
        if facts.opening is None:
            raise TypeError("an import is decided with the facts of its opening")
        Ticket.admit_import(command)
        opening = admit_opening(command.as_open(), facts.reach, facts.opening)
        if command.number is None:
            number = new_number()
        elif self.numbers.reserve(command.number, command.ticket_id):
            number = command.number
        else:
            raise TransitionForbidden(
                f"Ticket number {command.number} is another ticket's already; import it without its number "
                "(it takes a new one), or under its own once that ticket is gone.",
                current_status=None,
                current_version=None,
            )
        return Ticket.import_ticket(command, opening=opening, number=number)

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
            if isinstance(stored, Ticket.Imported):
                posts.extend(stored.posts)
            elif isinstance(stored, Ticket.Opened | Ticket.ReplyPosted):
                posts.append(
                    {
                        "post_id": stored.post_id,
                        "occurred_at": stored.timestamp.isoformat(),
                        "actor": stored.actor,
                        "side": getattr(stored, "side", "requester"),
                        "body": stored.body,
                        "visibility": getattr(stored, "visibility", "public"),
                        "attachments": stored.attachments,
                    }
                )
            elif isinstance(stored, Ticket.PostsMerged):
                posts.extend(stored.posts)
        return sorted(posts, key=lambda post: post["occurred_at"])

    def _merge_target(self, command: MergeTicket) -> Ticket:
        try:
            return self.get_ticket(command.into_ticket_id)
        except TicketNotFound:
            # The target is not the caller's to see, or does not exist: a refusal, never a wait.
            raise MergeTargetNotFound(command.into_ticket_id) from None

    def _merge(self, command: MergeTicket, facts: Facts, source: Ticket, target: Ticket) -> None:
        if command.command_id in source.applied:
            return
        source.merge_into(command, facts.reach, target)
        target.absorb(command, facts.reach, source, self.posts_of(source))

    def _decide_and_save(self, command: AnyCommand, facts: Facts, turns: Turns) -> CommandOutcome:
        if isinstance(command, OpenTicket):
            return self._open(command, facts, turns)
        if isinstance(command, ImportTicket):
            return self._import(command, facts)
        ticket = self.get_ticket(command.ticket_id)
        if isinstance(command, MergeTicket):
            target = self._merge_target(command)
            self._merge(command, facts, ticket, target)
            self.save(ticket, target)
        else:
            _apply(ticket, command, facts, now=self.clock())
            self.save(ticket)
        return _committed(command, ticket)

    def _open(self, command: OpenTicket, facts: Facts, turns: Turns) -> CommandOutcome:
        # Save first, look later: a new ticket costs no read, and its id (derived from the command id) makes
        # a second save of the same open fail, whereupon the ticket stored the first time answers. (An open
        # delivered again after its first decision committed draws a turn of its department that nobody takes.)
        opening = self._opening(command, facts, turns)
        ticket = Ticket.open(command, opening=opening, number=ticket_number(self.numbers.next_value()))
        try:
            self.save(ticket)
        except IntegrityError:
            ticket = self.get_ticket(command.ticket_id)
        return _committed(command, ticket)

    def _import(self, command: ImportTicket, facts: Facts) -> CommandOutcome:
        # As an open: save first; a second save of the same import fails, and the ticket stored first answers.
        ticket = self._imported(command, facts, lambda: ticket_number(self.numbers.next_value()))
        try:
            self.save(ticket)
        except IntegrityError:
            ticket = self.get_ticket(command.ticket_id)
        return _committed(command, ticket)


def _draws_a_number(command: AnyCommand) -> bool:
    return isinstance(command, OpenTicket) or (isinstance(command, ImportTicket) and command.number is None)


def _apply(ticket: Ticket, command: AnyCommand, facts: Facts, *, now: datetime) -> None:
    """Let ``ticket`` decide, at ``now``, a command that concerns it alone, by what the directory says."""
    reach = facts.reach
    match command:
        case PostReply():
            ticket.reply(command, reach, now=now)
        case CloseTicket():
            ticket.close(command, reach)
        case ChangeStatus():
            ticket.change_status(command, reach)
        case AssignTicket():
            ticket.assign(command, reach, staff=facts.assignee)
        case UpdateTicket():
            ticket.update(command, reach, configuration=facts.configuration)
        case RateTicket():
            ticket.rate(command, reach)
        case ArchiveTicket():
            ticket.archive(command, reach)
        case AutoCloseTicket():
            ticket.auto_close(command, reach)
        case OpenTicket() | MergeTicket() | ImportTicket():
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
