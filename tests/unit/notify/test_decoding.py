import json
from typing import get_args

from hostdesk_contracts.events import EVENT_TYPES, ReplyPosted
from hostdesk_notify.domain.decoding import KnownEvent, UnknownType, Unreadable, decode_event

from tests.unit.notify.builders import TicketStory


def test_a_published_event_reads_back_as_itself() -> None:
    reply = TicketStory().staff_reply()

    assert decode_event(reply.model_dump_json().encode()) == reply


def test_bytes_that_are_not_json_are_unreadable() -> None:
    assert isinstance(decode_event(b"\xff not json"), Unreadable)


def test_a_known_type_with_missing_fields_is_unreadable() -> None:
    decoded = decode_event(json.dumps({"type": ReplyPosted.model_fields["type"].default}).encode())

    assert isinstance(decoded, Unreadable)
    assert "event_id" in decoded.reason


def test_an_event_type_from_a_newer_publisher_is_unknown_not_unreadable() -> None:
    assert decode_event(b'{"type": "ticket.escalated.v1", "event_id": "x"}') == UnknownType()


def test_fields_added_by_a_newer_publisher_are_ignored() -> None:
    reply = TicketStory().staff_reply()
    payload = {**json.loads(reply.model_dump_json()), "mood": "cheerful"}

    assert decode_event(json.dumps(payload).encode()) == reply


def test_every_event_type_of_the_contracts_is_known() -> None:
    assert set(get_args(KnownEvent)) == set(EVENT_TYPES)


def test_an_event_of_each_type_reads_back_as_itself() -> None:
    events = TicketStory().one_of_each_kind()

    assert {type(event) for event in events} == set(EVENT_TYPES)
    assert [decode_event(event.model_dump_json().encode()) for event in events] == events
