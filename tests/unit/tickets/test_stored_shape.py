"""What the store holds keeps its shape: the ticket stores its events and snapshots as they are already stored
(topics, fields and their order), and events and a snapshot in that shape (today's, and each earlier one) load
into the same ticket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import reduce
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.base import Assignee, Side, Status
from hostdesk_contracts.commands import AssignTicket
from hostdesk_contracts.events import TicketOpened
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.domain.ticket import Ticket
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import CUSTOMER, NOW, STAFF, close, command, open_command, open_ticket, reply, staff_record
from .test_ticket_stateful import state_of

TOPIC = "hostdesk_tickets.domain.ticket:Ticket"
CUSTOMER_STATE = {
    "account_id": "cust-1",
    "tenant": "acme",
    "role": "customer",
    "display_name": None,
    "email": "jo@example.com",
}
STAFF_STATE = {"account_id": "agent-1", "tenant": "acme", "role": "agent", "display_name": "Sam", "email": None}
ASSIGNEE_STATE = {"account_id": "agent-1", "display_name": "Sam", "email": None}  # as the directory names them
ATTACHMENT_STATE = {
    "id": "att_0123456789abcdef0123456789abcdef",
    "name": "nginx-error.log",
    "media_type": "text/plain",
    "size": 1834,
    "digest": "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",
}
# The stored state of each event and of the snapshot, less their times, in the order the store holds them.
STORED: list[tuple[int, str, dict[str, Any]]] = [
    (
        1,
        f"{TOPIC}.Opened",
        {
            "originator_topic": TOPIC,
            "ticket_id": {"_type_": "uuid_hex", "_data_": "a0cd625f1282575f8d051ae3778cae45"},
            "tenant": "acme",
            "number": 482913,
            "subject": "Website down",
            "body": "example.com answers 502 since this morning.",
            "post_id": "open-1",
            "requester": CUSTOMER_STATE,
            "priority": "normal",
            "department": None,
            "category": None,
            "channel": "web",
            "cc": [],
            "related_service": None,
            "tags": [],
            "command_id": "open-1",
            "actor": CUSTOMER_STATE,
            "handling_organisation_id": "acme",
            "status": "open",
            "side": "requester",
            "attachments": [],
            "class_version": 4,
        },
    ),
    (
        2,
        f"{TOPIC}.ReplyPosted",
        {
            "post_id": "reply-1",
            "body": "Some words.",
            "visibility": "public",
            "attachments": [ATTACHMENT_STATE],
            "side": "handler",
            "actor": STAFF_STATE,
            "command_id": "reply-1",
            "class_version": 2,
        },
    ),
    (
        3,
        f"{TOPIC}.StatusChanged",
        {
            "from_status": "open",
            "to_status": "answered",
            "status_label": None,
            "reason": None,
            "side": "handler",
            "actor": STAFF_STATE,
            "command_id": "reply-1",
            "class_version": 2,
        },
    ),
    (
        4,
        f"{TOPIC}.Assigned",
        {
            "assignee": ASSIGNEE_STATE,
            "from_assignee": None,
            "side": "handler",
            "actor": STAFF_STATE,
            "command_id": "assign-1",
        },
    ),
    (
        5,
        f"{TOPIC}.Closed",
        {
            "from_status": "answered",
            "reason": None,
            "automatic": False,
            "side": "requester",
            "actor": CUSTOMER_STATE,
            "command_id": "close-1",
            "class_version": 2,
        },
    ),
    (
        5,
        "eventsourcing.domain:Snapshot",
        {
            "topic": TOPIC,
            "state": {
                "tenant": "acme",
                "handling_organisation_id": "acme",
                "number": 482913,
                "subject": "Website down",
                "requester": CUSTOMER_STATE,
                "priority": "normal",
                "department": None,
                "category": None,
                "channel": "web",
                "cc": [],
                "related_service": None,
                "tags": [],
                "status": "closed",
                "status_label": None,
                "assignee": ASSIGNEE_STATE,
                "archived": True,
                "rating": None,
                "rated": False,
                "merged_into": None,
                "answered_version": 3,
                "post_ids": ["open-1", "reply-1"],
                "attachment_count": 1,
                "requester_burst": [],
                "applied": {"open-1": 1, "reply-1": 3, "assign-1": 4, "close-1": 5},
                "class_version": 5,
            },
        },
    ),
]
# The opening as version 3 stored it, before files could be attached; and as version 2, before tickets were
# addressed to an organisation of the directory.
OPENED_V3: dict[str, Any] = {
    **{name: value for name, value in STORED[0][2].items() if name != "attachments"},
    "class_version": 3,
}
OPENED_V2: dict[str, Any] = {
    **{name: value for name, value in OPENED_V3.items() if name not in ("handling_organisation_id", "status", "side")},
    "class_version": 2,
}
# The reply as version 1 stored it, before files could be attached: no attachments, no class version.
REPLY_V1: dict[str, Any] = {
    name: value for name, value in STORED[1][2].items() if name not in ("attachments", "class_version")
}
# The same snapshot as version 4 stored it (no count of files, the reply then having none), as version 3 (nor
# the handling organisation), and as version 2 (nor the recent posts).
SNAPSHOT_V4: dict[str, Any] = {
    "topic": TOPIC,
    "state": {
        **{name: value for name, value in STORED[-1][2]["state"].items() if name != "attachment_count"},
        "class_version": 4,
    },
}
SNAPSHOT_V3: dict[str, Any] = {
    "topic": TOPIC,
    "state": {
        **{name: value for name, value in SNAPSHOT_V4["state"].items() if name != "handling_organisation_id"},
        "class_version": 3,
    },
}
SNAPSHOT_V2: dict[str, Any] = {
    "topic": TOPIC,
    "state": {
        **{name: value for name, value in SNAPSHOT_V3["state"].items() if name != "requester_burst"},
        "class_version": 2,
    },
}
TIMES = ("timestamp", "_created_on", "_modified_on")


@pytest.fixture
def app() -> Iterator[TicketsApplication]:
    application = TicketsApplication(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def without_times(state: dict[str, Any]) -> list[tuple[str, Any]]:
    """The state's fields in their stored order, its times left out (and a snapshot's ticket likewise)."""
    return [
        (name, without_times(value) if name == "state" else value) for name, value in state.items() if name not in TIMES
    ]


def decided_ticket() -> Ticket:
    ticket = open_ticket(open_command(command_id="open-1"), number=482913)
    ticket.reply(reply(ticket, STAFF, command_id="reply-1", attachments=[Attachment.model_validate(ATTACHMENT_STATE)]))
    assign = command(AssignTicket, ticket, STAFF, command_id="assign-1", assignee=Assignee(account_id="agent-1"))
    ticket.assign(assign, None, staff=staff_record("agent-1"))
    ticket.close(close(ticket, CUSTOMER, command_id="close-1"))
    return ticket


def test_a_ticket_stores_its_events_and_snapshot_in_the_shape_already_stored(app: TicketsApplication) -> None:
    ticket = decided_ticket()
    stored = [app.mapper.to_stored_event(event) for event in ticket.collect_events()]
    stored.append(app.mapper.to_stored_event(Ticket.Snapshot.take(ticket)))

    assert [(item.originator_version, item.topic, without_times(json.loads(item.state))) for item in stored] == [
        (version, topic, without_times(state)) for version, topic, state in STORED
    ]


@pytest.mark.parametrize(
    ("opened", "replied", "snapshot"),
    [
        (STORED[0][2], STORED[1][2], STORED[-1][2]),
        (OPENED_V3, REPLY_V1, SNAPSHOT_V4),
        (OPENED_V2, REPLY_V1, SNAPSHOT_V3),
        (OPENED_V2, REPLY_V1, SNAPSHOT_V2),
    ],
    ids=["today", "opened v3, reply v1, snapshot v4", "opened v2, snapshot v3", "opened v2, snapshot v2"],
)
def test_events_and_a_snapshot_in_the_stored_shape_load_into_the_same_ticket(
    app: TicketsApplication, opened: dict[str, Any], replied: dict[str, Any], snapshot: dict[str, Any]
) -> None:
    moment = {"_type_": "datetime_iso", "_data_": NOW.isoformat()}
    ticket_id = decided_ticket().id
    loaded: list[Any] = []
    stored_then = [
        (1, STORED[0][1], opened),
        (2, STORED[1][1], replied),
        *STORED[2:-1],
        (5, STORED[-1][1], snapshot),
    ]
    for version, topic, state in stored_then:
        if "state" in state:
            state = {**state, "state": {"_created_on": moment, "_modified_on": moment, **state["state"]}}
        stored = StoredEvent(
            originator_id=ticket_id,
            originator_version=version,
            topic=topic,
            state=json.dumps({"timestamp": moment, **state}, separators=(",", ":")).encode(),
        )
        loaded.append(app.mapper.to_domain_event(stored))
    *events, snapshot = loaded

    rebuilt = reduce(lambda state, event: event.mutate(state), events, None)
    from_snapshot = snapshot.mutate(None)

    assert isinstance(rebuilt, Ticket)
    assert isinstance(from_snapshot, Ticket)
    assert state_of(rebuilt) == state_of(from_snapshot)
    assert (rebuilt.status, from_snapshot.status) == (Status.CLOSED, Status.CLOSED)
    assert rebuilt.applied == {"open-1": 1, "reply-1": 3, "assign-1": 4, "close-1": 5}
    assert from_snapshot.requester_burst == []
    assert rebuilt.attachment_count == (1 if replied is STORED[1][2] else 0)  # an older reply holds no files
    addressed = None if opened is OPENED_V2 else "acme"  # before the directory: its tenant's provider handles it
    assert (rebuilt.handling_organisation_id, rebuilt.handler_id) == (addressed, "acme")


def test_an_opening_stored_before_the_directory_is_published_as_opened_by_its_requester_and_open(
    app: TicketsApplication,
) -> None:
    state = {"timestamp": {"_type_": "datetime_iso", "_data_": NOW.isoformat()}, **OPENED_V2}
    stored = StoredEvent(
        originator_id=decided_ticket().id, originator_version=1, topic=STORED[0][1], state=json.dumps(state).encode()
    )

    public = to_public(app.mapper.to_domain_event(stored))

    assert isinstance(public, TicketOpened)
    assert (public.side, public.status, public.handling_organisation_id) == (Side.REQUESTER, Status.OPEN, None)
