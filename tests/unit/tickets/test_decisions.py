"""Every public decision of the ticket admits its command the same way: one already applied records nothing,
on the ticket that decided it and on the ticket rebuilt from its stored events alike."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterator
from functools import reduce
from typing import Any

import pytest
from hostdesk_contracts.base import Assignee, Priority, Rating, Status
from hostdesk_contracts.commands import (
    ArchiveTicket,
    AssignTicket,
    AutoCloseTicket,
    ChangeStatus,
    MergeTicket,
    PostReply,
    RateTicket,
    UpdateTicket,
)
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.domain.ticket import PostState, Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import CUSTOMER, DIRECTORY, STAFF, SYSTEM, at_once, close, command, opened_ticket, reply
from .test_public_events import stored_event_classes

Deliver = Callable[[Ticket], None]  # hands the ticket one command, the same one each time


@dataclasses.dataclass(frozen=True)
class Delivery:
    ticket: Ticket
    deliver: Deliver
    meanwhile: Deliver | None = None  # what undoes the command's effect, so that deciding it again would record


def answered_ticket() -> Ticket:
    ticket = opened_ticket()
    ticket.reply(reply(ticket, STAFF))
    return ticket


def resolved_ticket() -> Ticket:
    ticket = opened_ticket()
    ticket.change_status(command(ChangeStatus, ticket, CUSTOMER, status=Status.RESOLVED))
    return ticket


def replying() -> Delivery:
    ticket = opened_ticket()
    posted = command(PostReply, ticket, STAFF, body="Rebooted.", expected_version=ticket.version)
    return Delivery(ticket, lambda it: it.reply(posted))


def changing_status() -> Delivery:
    ticket = opened_ticket()
    changed = command(ChangeStatus, ticket, STAFF, status=Status.ON_HOLD, expected_version=ticket.version)
    return Delivery(ticket, lambda it: it.change_status(changed))


def closing() -> Delivery:
    ticket = opened_ticket()
    closed = close(ticket, CUSTOMER)
    return Delivery(ticket, lambda it: it.close(closed))


def auto_closing() -> Delivery:
    ticket = answered_ticket()
    idle = command(AutoCloseTicket, ticket, SYSTEM, answered_version=3, reason="No reply for 7 days")
    return Delivery(ticket, lambda it: it.auto_close(idle))


def assigning() -> Delivery:
    ticket = opened_ticket()
    assigned = command(AssignTicket, ticket, STAFF, assignee=Assignee(account_id=STAFF.account_id))
    unassigned = command(AssignTicket, ticket, STAFF, assignee=None)
    staff = at_once(DIRECTORY.principal(STAFF.account_id))
    return Delivery(
        ticket, lambda it: it.assign(assigned, None, staff=staff), meanwhile=lambda it: it.assign(unassigned)
    )


def updating() -> Delivery:
    ticket = opened_ticket()
    updated = command(UpdateTicket, ticket, STAFF, priority=Priority.HIGH, tags=("vps",))
    restored = command(UpdateTicket, ticket, STAFF, priority=Priority.NORMAL, tags=())
    return Delivery(ticket, lambda it: it.update(updated), meanwhile=lambda it: it.update(restored))


def rating() -> Delivery:
    ticket = resolved_ticket()
    rated = command(RateTicket, ticket, CUSTOMER, rating=Rating.SATISFIED)
    return Delivery(ticket, lambda it: it.rate(rated))


def archiving() -> Delivery:
    ticket = answered_ticket()
    archived = command(ArchiveTicket, ticket, CUSTOMER)
    return Delivery(ticket, lambda it: it.archive(archived))


def merging_into() -> Delivery:
    source, target = opened_ticket(), opened_ticket()
    merged = command(MergeTicket, source, STAFF, into_ticket_id=target.id, expected_version=source.version)
    return Delivery(source, lambda it: it.merge_into(merged, None, target))


def absorbing() -> Delivery:
    source, target = answered_ticket(), opened_ticket()  # the versions differ: the one expected is the source's
    merged = command(MergeTicket, source, STAFF, into_ticket_id=target.id, expected_version=source.version)
    posts: list[PostState] = [
        {
            "post_id": "p-1",
            "occurred_at": "2026-11-22T09:00:00+00:00",
            "actor": {"account_id": "agent-1", "tenant": "acme", "role": "agent"},
            "side": "handler",
            "body": "Rebooted.",
            "visibility": "public",
            "attachments": [],
        }
    ]
    return Delivery(target, lambda it: it.absorb(merged, None, source, posts))


DECISIONS: dict[str, Callable[[], Delivery]] = {
    "reply": replying,
    "change_status": changing_status,
    "close": closing,
    "auto_close": auto_closing,
    "assign": assigning,
    "update": updating,
    "rate": rating,
    "archive": archiving,
    "merge_into": merging_into,
    "absorb": absorbing,
}


@pytest.fixture(scope="module")
def app() -> Iterator[TicketsApplication]:
    application = TicketsApplication(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def public_decisions() -> set[str]:
    """The ticket's public methods that decide a command on an existing ticket (opening makes a new one)."""
    return {
        name
        for name, value in vars(Ticket).items()
        if not name.startswith("_") and inspect.isfunction(value) and "command" in inspect.signature(value).parameters
    }


def test_every_public_decision_is_delivered_again_below() -> None:
    assert public_decisions() == set(DECISIONS)


def test_every_event_the_ticket_records_names_its_command() -> None:
    for event_class in stored_event_classes():
        assert "command_id" in {field.name for field in dataclasses.fields(event_class)}, event_class.__qualname__


@pytest.mark.parametrize("rebuilt", [False, True], ids=["as decided", "rebuilt from its stored events"])
@pytest.mark.parametrize("decision", sorted(DECISIONS))
def test_a_command_already_applied_records_nothing_when_delivered_again(
    app: TicketsApplication, decision: str, rebuilt: bool
) -> None:
    delivery = DECISIONS[decision]()
    ticket = delivery.ticket
    history = ticket.collect_events()
    delivery.deliver(ticket)
    recorded = ticket.collect_events()
    assert recorded, "the first delivery records"
    assert ticket.applied[recorded[0].command_id] == recorded[-1].originator_version  # type: ignore[attr-defined]
    if delivery.meanwhile is not None:
        delivery.meanwhile(ticket)
    history = [*history, *recorded, *ticket.collect_events()]
    if rebuilt:
        stored = [app.mapper.to_stored_event(event) for event in history]
        events: list[Any] = [app.mapper.to_domain_event(event) for event in stored]
        loaded = reduce(lambda state, event: event.mutate(state), events, None)
        assert isinstance(loaded, Ticket)
        ticket = loaded
    version, applied = ticket.version, dict(ticket.applied)

    delivery.deliver(ticket)

    assert ticket.collect_events() == []
    assert (ticket.version, ticket.applied) == (version, applied)
