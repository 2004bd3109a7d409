"""Events and snapshots stored before the lifecycle fields existed load into today's shape.

Version 1 of ``Opened`` had no category or tags, ``StatusChanged`` no status label, ``Closed`` no
``automatic``, and the ticket's snapshots none of the lifecycle fields. The stored bytes below are built the way
version 1 wrote them: the same JSON without those fields and without a ``class_version``. Version 2 of ``Opened``
(and version 3 of the snapshots) had no handling organisation: see also ``test_stored_shape``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import reduce
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from hostdesk_contracts.base import Status
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import CUSTOMER, STAFF, close, open_command, open_ticket, reply

ADDED_IN_V2 = {
    "Ticket.Opened": ("category", "tags", "handling_organisation_id", "status", "side"),
    "Ticket.StatusChanged": ("status_label",),
    "Ticket.Closed": ("automatic",),
}
TICKET_FIELDS_ADDED_IN_V2 = (
    "category",
    "tags",
    "status_label",
    "assignee",
    "archived",
    "rating",
    "rated",
    "merged_into",
    "answered_version",
    "handling_organisation_id",
)
TODAY = {"Ticket.Opened": 3, "Ticket.StatusChanged": 2, "Ticket.Closed": 2}


@pytest.fixture
def app() -> Iterator[TicketsApplication]:
    application = TicketsApplication(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def as_version_1(stored: StoredEvent, removed: tuple[str, ...], *, today: int, snapshot: bool = False) -> StoredEvent:
    state: dict[str, Any] = json.loads(stored.state)
    versioned = state["state"] if snapshot else state  # a snapshot holds the ticket's state in "state"
    assert versioned.pop("class_version") == today, f"today's version is {today}"
    for name in removed:
        del versioned[name]
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )


def test_version_1_events_load_with_the_fields_version_2_added(app: TicketsApplication) -> None:
    opening = open_command()
    ticket = open_ticket(opening, number=1)
    ticket.reply(reply(ticket, STAFF))
    ticket.close(close(ticket, CUSTOMER))
    old = []
    for event in ticket.collect_events():
        stored = app.mapper.to_stored_event(event)
        name = type(event).__qualname__
        old.append(as_version_1(stored, ADDED_IN_V2[name], today=TODAY[name]) if name in ADDED_IN_V2 else stored)

    events = [app.mapper.to_domain_event(stored) for stored in old]

    opened, _, status_changed, closed = events
    assert (opened.category, opened.tags) == (None, [])  # type: ignore[attr-defined]
    assert (opened.handling_organisation_id, opened.status, opened.side) == (None, "open", "requester")  # type: ignore[attr-defined]
    assert status_changed.status_label is None  # type: ignore[attr-defined]
    assert closed.automatic is False  # type: ignore[attr-defined]
    assert [to_public(event).version for event in events] == [1, 2, 3, 4]
    rebuilt = reduce(lambda state, event: event.mutate(state), events, None)
    assert isinstance(rebuilt, Ticket)
    assert (rebuilt.status, rebuilt.archived, rebuilt.status_label) == (Status.CLOSED, True, None)


def test_a_version_1_snapshot_loads_with_the_lifecycle_fields_at_their_first_values(app: TicketsApplication) -> None:
    ticket = open_ticket(open_command(), number=1)
    ticket.close(close(ticket, STAFF))
    ticket.collect_events()
    snapshot = app.mapper.to_stored_event(Ticket.Snapshot.take(ticket))  # type: ignore[attr-defined]
    old_snapshot = as_version_1(snapshot, (*TICKET_FIELDS_ADDED_IN_V2, "requester_burst"), today=4, snapshot=True)

    loaded = app.mapper.to_domain_event(old_snapshot).mutate(None)  # type: ignore[attr-defined]

    assert isinstance(loaded, Ticket)
    assert loaded.version == 2
    assert (loaded.archived, loaded.tags, loaded.assignee, loaded.merged_into) == (True, [], None, None)
    assert (loaded.rated, loaded.answered_version, loaded.requester_burst) == (False, None, [])
    assert (loaded.handling_organisation_id, loaded.handler_id) == (None, "acme")
