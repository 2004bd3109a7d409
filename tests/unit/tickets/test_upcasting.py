"""Events and snapshots stored before the lifecycle fields (and files) existed load into today's shape.

Version 1 of ``Opened`` had no category or tags, ``StatusChanged`` no status label, ``Closed`` no
``automatic``, ``ReplyPosted`` and ``PostsMerged`` no files, and the ticket's snapshots none of the lifecycle
fields. The stored bytes below are built the way
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
from hostdesk_contracts.commands import MergeTicket
from hostdesk_contracts.events import PostsMerged, ReplyPosted, TicketOpened
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.domain.ticket import PostState, Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import CUSTOMER, NOW, STAFF, attachment, close, command, open_command, open_ticket, reply

ADDED_IN_V2 = {
    "Ticket.Opened": ("category", "tags", "handling_organisation_id", "status", "side", "attachments"),
    "Ticket.ReplyPosted": ("attachments",),
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
    "attachment_count",
)
TODAY = {"Ticket.Opened": 4, "Ticket.ReplyPosted": 2, "Ticket.StatusChanged": 2, "Ticket.Closed": 2}


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

    opened, replied, status_changed, closed = events
    assert (opened.category, opened.tags, opened.attachments) == (None, [], [])  # type: ignore[attr-defined]
    assert replied.attachments == []  # type: ignore[attr-defined]
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
    old_snapshot = as_version_1(snapshot, (*TICKET_FIELDS_ADDED_IN_V2, "requester_burst"), today=5, snapshot=True)

    loaded = app.mapper.to_domain_event(old_snapshot).mutate(None)  # type: ignore[attr-defined]

    assert isinstance(loaded, Ticket)
    assert loaded.version == 2
    assert (loaded.archived, loaded.tags, loaded.assignee, loaded.merged_into) == (True, [], None, None)
    assert (loaded.rated, loaded.answered_version, loaded.requester_burst) == (False, None, [])
    assert (loaded.handling_organisation_id, loaded.handler_id) == (None, "acme")
    assert loaded.attachment_count == 0


def test_posts_stored_before_files_could_be_attached_load_and_are_published_with_none(app: TicketsApplication) -> None:
    ticket = open_ticket(open_command(attachments=[attachment()]), number=1)
    ticket.reply(reply(ticket, STAFF, attachments=[attachment()]))
    opening, replied, _ = (app.mapper.to_stored_event(event) for event in ticket.collect_events())
    old = [
        as_version_1(opening, ("attachments",), today=TODAY["Ticket.Opened"]),
        as_version_1(replied, ("attachments",), today=TODAY["Ticket.ReplyPosted"]),
    ]

    events = [app.mapper.to_domain_event(stored) for stored in old]

    published = [to_public(event) for event in events]
    assert isinstance(published[0], TicketOpened)
    assert isinstance(published[1], ReplyPosted)
    assert (published[0].attachments, published[1].attachments) == ((), ())
    rebuilt = reduce(lambda state, event: event.mutate(state), events, None)
    assert isinstance(rebuilt, Ticket)
    assert rebuilt.attachment_count == 0


def test_a_merge_stored_before_files_could_be_attached_loads_with_no_files_on_its_posts(
    app: TicketsApplication,
) -> None:
    source = open_ticket(open_command(), number=1)
    target = open_ticket(open_command(), number=2)
    merging = command(MergeTicket, source, STAFF, into_ticket_id=target.id)
    posts: list[PostState] = [
        {
            "post_id": "p-1",
            "occurred_at": NOW.isoformat(),
            "actor": {"account_id": "agent-1", "tenant": "acme", "role": "agent"},
            "side": "handler",
            "body": "Rebooted.",
            "visibility": "public",
            "attachments": [attachment().model_dump(mode="json")],
        }
    ]
    target.absorb(merging, None, source, posts)
    opened, stored = (app.mapper.to_stored_event(event) for event in target.collect_events())
    old_state = json.loads(stored.state)
    assert old_state.pop("class_version") == 2, "today's version is 2"
    for post in old_state["posts"]:
        del post["attachments"]
    old = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(old_state).encode(),
    )

    events = [app.mapper.to_domain_event(opened), app.mapper.to_domain_event(old)]

    published = to_public(events[1])
    assert isinstance(published, PostsMerged)
    assert [post.attachments for post in published.posts] == [()]
    rebuilt = reduce(lambda state, event: event.mutate(state), events, None)
    assert isinstance(rebuilt, Ticket)
    assert (rebuilt.post_ids[-1], rebuilt.attachment_count) == ("p-1", 0)
