"""The commands' own bounds: what no caller may send, whoever they are."""

from __future__ import annotations

import uuid

import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.commands import (
    CC_MAX_BY_HANDLER,
    POST_BODY_MAX_CHARS,
    OpenTicket,
    PostReply,
    UpdateTicket,
    ticket_id_for,
)
from pydantic import ValidationError

from tests.unit.tickets.builders import NOW

CUSTOMER = Actor(account_id="cust-1", tenant="acme", role=Role.CUSTOMER)


def reply_of(body: str) -> PostReply:
    return PostReply(command_id="reply-1", ticket_id=uuid.uuid4(), actor=CUSTOMER, issued_at=NOW, body=body)


def test_a_post_of_20000_characters_is_a_command_and_one_more_is_not() -> None:
    assert POST_BODY_MAX_CHARS == 20_000
    assert len(reply_of("x" * POST_BODY_MAX_CHARS).body) == POST_BODY_MAX_CHARS

    with pytest.raises(ValidationError) as refused:
        reply_of("x" * (POST_BODY_MAX_CHARS + 1))

    assert [error["loc"] for error in refused.value.errors()] == [("body",)]


def test_an_opening_post_is_bounded_as_a_reply_is() -> None:
    with pytest.raises(ValidationError) as refused:
        OpenTicket(
            command_id="open-1",
            ticket_id=ticket_id_for("open-1"),
            actor=CUSTOMER,
            issued_at=NOW,
            subject="Down",
            body="x" * (POST_BODY_MAX_CHARS + 1),
        )

    assert [error["loc"] for error in refused.value.errors()] == [("body",)]


def test_no_command_carries_more_cc_recipients_than_the_handling_side_may_set() -> None:
    addresses = tuple(f"cc{n}@example.com" for n in range(CC_MAX_BY_HANDLER + 1))

    with pytest.raises(ValidationError) as refused:
        UpdateTicket(command_id="u-1", ticket_id=uuid.uuid4(), actor=CUSTOMER, issued_at=NOW, cc=addresses)

    assert [error["loc"] for error in refused.value.errors()] == [("cc",)]
