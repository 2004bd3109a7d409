"""Reading a message of the events stream, as every consumer does."""

import json
from typing import get_args

import pytest
from hostdesk_contracts.base import Role
from hostdesk_contracts.decoding import Known, Undecodable, Unknown, decode_event
from hostdesk_contracts.events import EVENT_TYPES, AnyEvent, ReplyPosted
from hostdesk_devtools.stories import TicketStory, account, every_kind_of_event


def test_a_known_event_decodes_to_its_contract() -> None:
    opened = TicketStory(account("acme")).opened()

    assert decode_event(opened.model_dump_json().encode()) == Known(opened)


def test_an_event_of_each_type_reads_back_as_itself() -> None:
    events = every_kind_of_event("acme").events

    assert {type(event) for event in events} == set(EVENT_TYPES) == set(get_args(AnyEvent))
    assert [decode_event(event.model_dump_json().encode()) for event in events] == [Known(e) for e in events]


def test_fields_added_by_a_newer_publisher_are_ignored() -> None:
    opened = TicketStory(account("acme")).opened()
    payload = {**json.loads(opened.model_dump_json()), "mood": "cheerful"}

    assert decode_event(json.dumps(payload).encode()) == Known(opened)


def test_an_event_of_an_unknown_type_keeps_its_envelope() -> None:
    story = TicketStory(account("acme"))
    story.opened()
    payload = story.reply(account("acme", Role.AGENT)).model_dump(mode="json") | {"type": "ticket.escalated.v1"}

    decoded = decode_event(json.dumps(payload).encode())

    assert isinstance(decoded, Unknown)
    assert decoded.type == "ticket.escalated.v1"
    assert decoded.envelope is not None
    assert decoded.envelope.version == 2


def test_an_event_of_an_unknown_type_without_an_envelope_is_still_unknown() -> None:
    decoded = decode_event(b'{"type": "ticket.escalated.v1", "whatever": 1}')

    assert decoded == Unknown("ticket.escalated.v1", None)


def test_a_known_type_with_missing_fields_is_undecodable_and_says_which() -> None:
    decoded = decode_event(json.dumps({"type": ReplyPosted.model_fields["type"].default}).encode())

    assert isinstance(decoded, Undecodable)
    assert "event_id" in decoded.error


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe garbage", b"not json", b"[1, 2]", b'{"no": "type"}', b'{"type": "ticket.opened.v1", "ticket_id": 7}'],
)
def test_bytes_that_are_no_event_are_undecodable(data: bytes) -> None:
    assert isinstance(decode_event(data), Undecodable)
