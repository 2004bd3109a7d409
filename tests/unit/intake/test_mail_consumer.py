"""Intake's consumer of mail received: which messages of a batch wait on one another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from hostdesk_contracts.mail import MailReceived, MailSource
from hostdesk_intake.entrypoints.mail_consumer import by_sender
from nats.aio.msg import Msg


@dataclass
class Message:
    data: bytes


def received(mail: int, *, tenant: str = "acme", return_path: str | None = "jo@customer.example") -> Msg:
    body = MailReceived(
        mail_id=f"{mail:064x}",
        tenant=tenant,
        size=10,
        source=MailSource.SMTP if return_path is not None else MailSource.IMAP,
        return_path=return_path,
        recipients=("support@acme.example",),
        received_at=datetime(2026, 12, 2, tzinfo=UTC),
    )
    return cast(Msg, Message(body.model_dump_json().encode()))


def mail_ids(groups: list[list[Msg]]) -> list[list[int]]:
    def number(message: Any) -> int:
        return int(MailReceived.model_validate_json(message.data).mail_id, 16)

    return [[number(message) for message in group] for group in groups]


def test_one_senders_mail_stays_in_order_and_others_go_beside_it() -> None:
    batch = [
        received(1),
        received(2, return_path="ann@customer.example"),
        received(3),
        received(4, tenant="other"),
        received(5, return_path="ann@customer.example"),
    ]
    assert mail_ids(by_sender(batch)) == [[1, 3], [2, 5], [4]]


def test_bounces_from_the_null_sender_wait_on_nothing() -> None:
    assert mail_ids(by_sender([received(1, return_path=""), received(2, return_path="")])) == [[1], [2]]


def test_mail_of_no_known_sender_and_foreign_messages_wait_on_nothing() -> None:
    batch = [received(1, return_path=None), received(2, return_path=None), cast(Msg, Message(b"not a mail"))]
    groups = by_sender(batch)
    assert len(groups) == 3
    assert [len(group) for group in groups] == [1, 1, 1]
