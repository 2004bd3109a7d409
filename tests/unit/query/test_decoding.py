import json

import pytest
from hostdesk_contracts.base import Role
from hostdesk_query.domain.decoding import Known, Undecodable, Unknown, decode
from hostdesk_query.testing import TicketStory, account


def test_a_known_event_decodes_to_its_contract() -> None:
    opened = TicketStory(account("acme")).opened()

    assert decode(opened.model_dump_json().encode()) == Known(opened)


def test_an_event_of_an_unknown_type_keeps_its_envelope() -> None:
    story = TicketStory(account("acme"))
    story.opened()
    payload = story.reply(account("acme", Role.AGENT)).model_dump(mode="json") | {"type": "ticket.escalated.v1"}

    decoded = decode(json.dumps(payload).encode())

    assert isinstance(decoded, Unknown)
    assert decoded.type == "ticket.escalated.v1"
    assert decoded.envelope is not None
    assert decoded.envelope.version == 2


def test_an_event_of_an_unknown_type_without_an_envelope_is_still_unknown() -> None:
    decoded = decode(b'{"type": "ticket.escalated.v1", "whatever": 1}')

    assert decoded == Unknown("ticket.escalated.v1", None)


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe garbage", b"not json", b"[1, 2]", b'{"no": "type"}', b'{"type": "ticket.opened.v1", "ticket_id": 7}'],
)
def test_bytes_that_are_no_event_are_undecodable(data: bytes) -> None:
    assert isinstance(decode(data), Undecodable)
