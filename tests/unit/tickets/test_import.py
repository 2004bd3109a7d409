"""Given / when / then: a ticket imported from the previous helpdesk keeps its number (reserved, so no new ticket
takes it), its requester, its posts with their own dates and authors, and its status; it is one event saying it was
imported and from where, recorded when it was imported; importing it again makes nothing more, and a number another
ticket holds is refused. An in-memory directory and event store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hostdesk_contracts.base import Actor, Role, Side, Status, Visibility
from hostdesk_contracts.commands import ImportedPost, ImportSource, ImportTicket, PostReply, imported_ticket_id_for
from hostdesk_contracts.events import TicketImported
from hostdesk_contracts.outcomes import Refusal
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.domain.numbers import ticket_number
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import NOW, handle, handle_batch, new_id
from .test_addressing import TENANT, tree

SUPERVISOR = Actor(account_id="boss", tenant=TENANT, role=Role.SUPERVISOR, organisation_id=TENANT)
THEN = NOW - timedelta(days=30)


def importing(number: int | None = 48213, *, source_id: str = "T-1001", actor: Actor = SUPERVISOR) -> ImportTicket:
    source = ImportSource(system="whmcs", ticket_id=source_id)
    return ImportTicket(
        command_id=f"import-{source_id}",
        ticket_id=imported_ticket_id_for(TENANT, source),
        actor=actor,
        issued_at=NOW,
        source=source,
        number=number,
        subject="Mail bounces",
        requester_id="cust-p",
        status=Status.ANSWERED,
        posts=(
            ImportedPost(posted_at=THEN + timedelta(hours=2), side=Side.HANDLER, author_name="Ana", body="Fixed SPF."),
            ImportedPost(posted_at=THEN, side=Side.REQUESTER, body="My mail bounces."),
            ImportedPost(
                posted_at=THEN + timedelta(hours=1), side=Side.HANDLER, body="Looking.", visibility=Visibility.INTERNAL
            ),
        ),
        message_ids=("<whmcs-1001-1@old.example>", "whmcs-1001-2@old.example"),
    )


@pytest.fixture
def app() -> TicketsApplication:
    return TicketsApplication(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_an_imported_ticket_keeps_its_number_posts_dates_authors_and_status_in_one_event(
    app: TicketsApplication,
) -> None:
    command = importing()
    outcome = handle(app, command, tree())

    assert outcome.result == "committed", outcome
    assert (outcome.number, outcome.version) == (48213, 1)
    (stored,) = app.repository.event_store.get(command.ticket_id)
    event = to_public(stored)
    assert isinstance(event, TicketImported)
    assert event.occurred_at != THEN  # recorded when imported; the history keeps its own dates
    assert (event.source.system, event.source.ticket_id) == ("whmcs", "T-1001")
    assert event.opened_at == THEN
    assert event.requester.account_id == "cust-p"
    assert event.status is Status.ANSWERED
    assert [(post.occurred_at, post.side, post.body) for post in event.posts] == [
        (THEN, Side.REQUESTER, "My mail bounces."),
        (THEN + timedelta(hours=1), Side.HANDLER, "Looking."),
        (THEN + timedelta(hours=2), Side.HANDLER, "Fixed SPF."),
    ]
    assert event.posts[1].visibility is Visibility.INTERNAL
    assert event.posts[2].actor.display_name == "Ana"
    assert event.message_ids == ("whmcs-1001-1@old.example", "whmcs-1001-2@old.example")

    ticket = app.get_ticket(command.ticket_id)
    assert ticket.status is Status.ANSWERED
    assert len(ticket.post_ids) == 3
    assert [post["body"] for post in app.posts_of(ticket)] == ["My mail bounces.", "Looking.", "Fixed SPF."]


def test_importing_again_makes_nothing_more_and_the_ticket_goes_on_as_any_other(app: TicketsApplication) -> None:
    directory = tree()
    first = handle(app, importing(), directory)
    again = handle(app, importing(), directory)
    assert (again.result, again.ticket_id, again.number) == ("committed", first.ticket_id, first.number)
    assert len(list(app.repository.event_store.get(importing().ticket_id))) == 1

    assert first.ticket_id is not None
    reply = PostReply(
        command_id=new_id(),
        ticket_id=first.ticket_id,
        actor=Actor(account_id="cust-p", tenant=TENANT, role=Role.CUSTOMER),
        issued_at=NOW,
        body="Works now, thanks.",
    )
    replied = handle(app, reply, directory)
    assert (replied.result, replied.version) == ("committed", 3)  # the reply, then customer_reply


def test_a_number_drawn_already_or_imported_for_another_ticket_is_refused(app: TicketsApplication) -> None:
    directory = tree()
    taken = ticket_number(app.numbers.next_value())  # a ticket of ours has it
    refused = handle(app, importing(taken), directory)
    assert (refused.result, refused.refusal) == ("refused", Refusal.CONFLICT)
    assert refused.detail is not None
    assert str(taken) in refused.detail

    assert handle(app, importing(48213), directory).result == "committed"
    other = handle(app, importing(48213, source_id="T-2002"), directory)
    assert (other.result, other.refusal) == ("refused", Refusal.CONFLICT)
    free = handle(app, importing(None, source_id="T-3003"), directory)
    assert free.result == "committed"
    assert free.number not in (None, 48213, taken)


def test_a_reserved_number_is_never_drawn_for_a_new_ticket(app: TicketsApplication) -> None:
    upcoming = ticket_number(1)  # the first value the sequence will draw
    assert handle(app, importing(upcoming), tree()).result == "committed"

    assert ticket_number(app.numbers.next_value()) != upcoming


def test_in_a_batch_as_alone(app: TicketsApplication) -> None:
    outcomes = handle_batch(app, [importing(None, source_id="A"), importing(77, source_id="B")], tree())
    assert [each.result for each in outcomes] == ["committed", "committed"]
    assert outcomes[1].number == 77


def test_an_agent_or_a_customer_may_not_import(app: TicketsApplication) -> None:
    agent = Actor(account_id="agent-1", tenant=TENANT, role=Role.AGENT, organisation_id=TENANT)
    refused = handle(app, importing(actor=agent), tree())
    assert (refused.result, refused.refusal) == ("refused", Refusal.INVALID)
