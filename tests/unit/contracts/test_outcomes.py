"""An outcome names its command's type and a digest of what it asked, the same for every retry of the request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.commands import PostReply
from hostdesk_contracts.outcomes import CommandOutcome, request_digest

ACTOR = Actor(account_id="cust-1", tenant="acme", role=Role.CUSTOMER)
TICKET = uuid.uuid4()
THEN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def reply(body: str, *, at: datetime = THEN, expected_version: int | None = None) -> PostReply:
    return PostReply(
        command_id="c-1", ticket_id=TICKET, actor=ACTOR, issued_at=at, body=body, expected_version=expected_version
    )


def test_a_retry_sent_later_has_the_same_digest() -> None:
    assert request_digest(reply("Down.")) == request_digest(reply("Down.", at=THEN + timedelta(minutes=5)))


def test_another_body_or_another_if_match_has_another_digest() -> None:
    digests = {
        request_digest(reply("Down.")),
        request_digest(reply("Up.")),
        request_digest(reply("Down.", expected_version=3)),
    }

    assert len(digests) == 3


def test_an_outcome_names_its_command() -> None:
    outcome = CommandOutcome.of(reply("Down."), ticket_id=TICKET, result="committed", version=2)

    assert (outcome.command_type, outcome.account_id, outcome.command_id) == ("ticket.reply.v1", "cust-1", "c-1")
    assert outcome.request_digest == request_digest(reply("Down."))
