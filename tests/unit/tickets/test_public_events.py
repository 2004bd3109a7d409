"""Every stored event has a public counterpart, and it carries the facts a subscriber needs."""

from __future__ import annotations

from eventsourcing.domain import CanMutateAggregate
from hostdesk_contracts.base import Side, Status, Visibility
from hostdesk_contracts.events import ReplyPosted, StatusChanged, TicketOpened
from hostdesk_tickets.adapters.public_events import MAPPINGS, to_public
from hostdesk_tickets.domain.ticket import Ticket

from .builders import STAFF, opened_ticket, reply


def stored_event_classes() -> set[type]:
    """The event classes the aggregate records, without the library's base classes."""
    bases = {Ticket.Event, Ticket.Created}
    return {
        value
        for value in vars(Ticket).values()
        if isinstance(value, type) and issubclass(value, CanMutateAggregate) and value not in bases
    }


def test_every_stored_event_class_has_a_public_mapping() -> None:
    assert stored_event_classes() - set(MAPPINGS) == set()
    assert len(stored_event_classes()) >= 5


def test_a_staff_reply_maps_to_a_post_and_a_status_change_with_stable_ids() -> None:
    ticket = opened_ticket()
    ticket.reply(reply(ticket, STAFF, visibility=Visibility.PUBLIC))

    opened, posted, changed = (to_public(event) for event in ticket.collect_events())

    assert isinstance(opened, TicketOpened)
    assert opened.number == 482913
    assert opened.event_id == f"{ticket.id}:1"
    assert isinstance(posted, ReplyPosted)
    assert posted.side is Side.HANDLER
    assert posted.tenant == "acme"
    assert isinstance(changed, StatusChanged)
    assert (changed.from_status, changed.to_status) == (Status.OPEN, Status.ANSWERED)
    assert changed.event_id == f"{ticket.id}:3"
