"""Random sequences of every command on two tickets, with the invariants checked after each step.

The application runs on the library's in-memory store with a snapshot every 3 events, so the as-of views
start from snapshots as they do in production.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from hostdesk_contracts.base import Actor, Assignee, Priority, Rating, Role, Status, Visibility
from hostdesk_contracts.commands import (
    AnyCommand,
    ArchiveTicket,
    AssignTicket,
    AutoCloseTicket,
    ChangeStatus,
    CloseTicket,
    CommandBase,
    MergeTicket,
    PostReply,
    RateTicket,
    UpdateTicket,
)
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from .builders import CUSTOMER, NOW, STAFF, SYSTEM, handle, new_id, open_command

KIM = Actor(account_id="agent-2", tenant="acme", role=Role.SUPERVISOR)
ACTORS = st.sampled_from([CUSTOMER, STAFF, KIM])
LABELS = st.sampled_from([None, "Validation", "To do"])
ASSIGNEES = st.sampled_from([None, Assignee(account_id="agent-1"), Assignee(account_id="agent-2")])
WORDS = st.sampled_from(["a", "b"])


class SnapshottingTickets(TicketsApplication):
    snapshotting_intervals = {Ticket: 3}


def state_of(ticket: Ticket) -> dict[str, Any]:
    return {key: value for key, value in vars(ticket).items() if key != "_pending_events"}


class TicketMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app = SnapshottingTickets(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.ticket_ids: list[Any] = []
        self.states: dict[Any, dict[int, dict[str, Any]]] = {}  # ticket -> version -> state after a step
        self.sent: list[AnyCommand] = []
        self.before: dict[Any, Ticket] = {}
        self.last: CommandBase | None = None

    def teardown(self) -> None:
        self.app.close()

    @initialize()
    def open_two_tickets(self) -> None:
        for _ in range(2):
            opening = open_command()
            assert handle(self.app, opening).result == "committed"
            self.ticket_ids.append(opening.ticket_id)
            self.states[opening.ticket_id] = {1: state_of(self.app.get_ticket(opening.ticket_id))}

    # -- sending ------------------------------------------------------------------------------------------

    def send(self, kind: type[CommandBase], which: int, actor: Actor, **fields: Any) -> CommandOutcome:
        command = kind(command_id=new_id(), ticket_id=self.ticket_ids[which], actor=actor, issued_at=NOW, **fields)
        return self.send_command(command)  # type: ignore[arg-type]

    def send_command(self, command: AnyCommand) -> CommandOutcome:
        self.before = {ticket_id: self.app.get_ticket(ticket_id) for ticket_id in self.ticket_ids}
        outcome = handle(self.app, command)
        if command.command_id in self.app.get_ticket(command.ticket_id).applied:
            self.sent.append(command)  # it recorded events, by which the ticket recognises it
        self.last = command
        for ticket_id in self.ticket_ids:
            ticket = self.app.get_ticket(ticket_id)
            self.states[ticket_id][ticket.version] = state_of(ticket)
        if outcome.result == "refused":
            for ticket_id, before in self.before.items():
                assert self.app.get_ticket(ticket_id).version == before.version, "a refusal records nothing"
        return outcome

    # -- rules: every command ----------------------------------------------------------------------------

    @rule(which=st.integers(0, 1), actor=ACTORS, internal=st.booleans(), status=st.none() | st.sampled_from(Status))
    def reply(self, which: int, actor: Actor, internal: bool, status: Status | None) -> None:
        visibility = Visibility.INTERNAL if internal else Visibility.PUBLIC
        before = self.app.get_ticket(self.ticket_ids[which])
        outcome = self.send(PostReply, which, actor, body="words", visibility=visibility, status=status)
        after = self.app.get_ticket(self.ticket_ids[which])
        if internal:
            assert (after.status, after.archived) == (before.status, before.archived), "a note changes nothing"
        if outcome.result == "committed" and not internal and actor != CUSTOMER and status is None:
            assert after.status is Status.ANSWERED

    @rule(which=st.integers(0, 1), actor=ACTORS, status=st.sampled_from(Status), label=LABELS)
    def change_status(self, which: int, actor: Actor, status: Status, label: str | None) -> None:
        self.send(ChangeStatus, which, actor, status=status, status_label=label)

    @rule(which=st.integers(0, 1), actor=ACTORS)
    def close(self, which: int, actor: Actor) -> None:
        outcome = self.send(CloseTicket, which, actor)
        if outcome.result == "committed":
            assert self.app.get_ticket(self.ticket_ids[which]).archived

    @rule(which=st.integers(0, 1), current=st.booleans())
    def auto_close(self, which: int, current: bool) -> None:
        ticket = self.app.get_ticket(self.ticket_ids[which])
        answered = (ticket.answered_version or 1) if current else ticket.version + 1
        outcome = self.send(AutoCloseTicket, which, SYSTEM, answered_version=answered, reason="idle")
        assert (outcome.result == "committed") == (current and ticket.status is Status.ANSWERED)

    @rule(which=st.integers(0, 1), actor=ACTORS, assignee=ASSIGNEES)
    def assign(self, which: int, actor: Actor, assignee: Assignee | None) -> None:
        self.send(AssignTicket, which, actor, assignee=assignee)

    @rule(
        which=st.integers(0, 1),
        actor=ACTORS,
        priority=st.none() | st.sampled_from(Priority),
        department=st.none() | WORDS,
        category=st.none() | WORDS,
        cc=st.none() | st.lists(st.sampled_from(["a@example.com", "b@example.com"]), max_size=2).map(tuple),
        tags=st.none() | st.lists(WORDS, max_size=2).map(tuple),
    )
    def update(self, which: int, actor: Actor, **fields: Any) -> None:
        self.send(UpdateTicket, which, actor, **fields)

    @rule(which=st.integers(0, 1), actor=ACTORS, rating=st.sampled_from(Rating), comment=st.none() | WORDS)
    def rate(self, which: int, actor: Actor, rating: Rating, comment: str | None) -> None:
        self.send(RateTicket, which, actor, rating=rating, comment=comment)

    @rule(which=st.integers(0, 1), actor=ACTORS)
    def archive(self, which: int, actor: Actor) -> None:
        self.send(ArchiveTicket, which, actor)

    @rule(which=st.integers(0, 1), actor=ACTORS)
    def merge(self, which: int, actor: Actor) -> None:
        self.send(MergeTicket, which, actor, into_ticket_id=self.ticket_ids[1 - which])

    @precondition(lambda machine: machine.sent)
    @rule(pick=st.integers(min_value=0))
    def deliver_again(self, pick: int) -> None:
        """A command that recorded events changes nothing when delivered again. (One that was refused or changed
        nothing is answered from the outcomes bucket by the commands consumer, without deciding it again.)"""
        command = self.sent[pick % len(self.sent)]
        versions = {ticket_id: self.app.get_ticket(ticket_id).version for ticket_id in self.ticket_ids}
        self.send_command(command)
        assert {ticket_id: self.app.get_ticket(ticket_id).version for ticket_id in self.ticket_ids} == versions

    # -- invariants --------------------------------------------------------------------------------------

    @invariant()
    def versions_increase_by_one_per_event(self) -> None:
        for ticket_id in self.ticket_ids:
            versions = [event.originator_version for event in self.app.repository.event_store.get(ticket_id)]
            assert versions == list(range(1, len(versions) + 1))

    @invariant()
    def the_archived_flag_matches_the_rules(self) -> None:
        for ticket_id in self.ticket_ids:
            ticket = self.app.get_ticket(ticket_id)
            if ticket.status is Status.CLOSED:
                assert ticket.archived
            if ticket.archived:
                assert ticket.status in (Status.ANSWERED, Status.RESOLVED, Status.CLOSED)
            if ticket.merged_into is not None:
                assert (ticket.status, ticket.archived) == (Status.CLOSED, True)

    @invariant()
    def a_ticket_rebuilt_from_all_its_events_equals_the_live_one(self) -> None:
        for ticket_id in self.ticket_ids:
            events = list(self.app.repository.event_store.get(ticket_id))
            rebuilt = reduce(lambda ticket, event: event.mutate(ticket), events, None)
            assert isinstance(rebuilt, Ticket)
            assert state_of(rebuilt) == state_of(self.app.get_ticket(ticket_id))

    @invariant()
    def the_view_as_of_every_version_equals_the_state_at_that_step(self) -> None:
        for ticket_id in self.ticket_ids:
            for version, state in self.states[ticket_id].items():
                assert state_of(self.app.get_ticket(ticket_id, version=version)) == state


TicketMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_ticket_lifecycle = TicketMachine.TestCase
