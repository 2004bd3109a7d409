"""How a request's body and headers become a command."""

from __future__ import annotations

import uuid

import pytest
from hostdesk_contracts.base import Channel, Priority, Status, Visibility
from hostdesk_contracts.commands import ticket_id_for
from hostdesk_intake.api.deps import expected_version
from hostdesk_intake.api.problems import InvalidField
from hostdesk_intake.api.schemas.conversation import CloseRequest, OpenTicketRequest, ReplyRequest
from hostdesk_intake.domain.commands import Envelope
from hostdesk_intake.domain.status_labels import PLANETHOSTER_LABELS, StatusLabels
from pydantic import ValidationError

from .builders import CUSTOMER, NOW

ENVELOPE = Envelope(command_id=str(uuid.uuid4()), actor=CUSTOMER, issued_at=NOW)
LABELS = StatusLabels(PLANETHOSTER_LABELS)


def test_an_open_request_becomes_an_open_ticket_command_whose_ticket_id_derives_from_the_command() -> None:
    request = OpenTicketRequest(
        subject="  Mail bounces  ",
        body="Every mail to info@ bounces.",
        priority=Priority.HIGH,
        department="Technical Support",
        cc=("ops@example.org",),
        related_service="vps-1042",
        channel="api",
    )

    command = request.to_command(ENVELOPE)

    assert command.command_id == ENVELOPE.command_id
    assert command.ticket_id == ticket_id_for(ENVELOPE.command_id)
    assert command.actor == CUSTOMER
    assert command.issued_at == NOW
    assert command.subject == "Mail bounces"
    assert (command.priority, command.channel) == (Priority.HIGH, Channel.API)
    assert command.cc == ("ops@example.org",)
    assert (command.department, command.related_service) == ("Technical Support", "vps-1042")


def test_an_open_request_defaults_to_normal_priority_from_the_web() -> None:
    command = OpenTicketRequest(subject="Hello", body="Question").to_command(ENVELOPE)

    assert (command.priority, command.channel) == (Priority.NORMAL, Channel.WEB)


def test_a_reply_request_carries_the_ticket_and_the_expected_version() -> None:
    ticket_id = uuid.uuid4()
    envelope = Envelope(command_id=ENVELOPE.command_id, actor=CUSTOMER, issued_at=NOW, expected_version=3)

    command = ReplyRequest(body="Internal note", visibility=Visibility.INTERNAL).to_command(
        envelope, ticket_id, labels=LABELS
    )

    assert command.ticket_id == ticket_id
    assert command.expected_version == 3
    assert command.visibility is Visibility.INTERNAL


def test_an_open_request_carries_its_category_and_each_tag_once() -> None:
    request = OpenTicketRequest(subject="Hello", body="Question", category=" DNS ", tags=(" vip", "dns", "vip"))

    command = request.to_command(ENVELOPE)

    assert command.category == "DNS"
    assert command.tags == ("vip", "dns")


def test_a_reply_may_set_the_status_it_leaves_the_ticket_in() -> None:
    command = ReplyRequest(body="Looking into it.", status=Status.ON_HOLD).to_command(
        ENVELOPE, uuid.uuid4(), labels=LABELS
    )

    assert (command.status, command.status_label) == (Status.ON_HOLD, None)


def test_a_reply_given_a_label_in_any_case_carries_its_status_and_the_label_as_configured() -> None:
    command = ReplyRequest(body="We are installing it.", status_label="  install REQUEST").to_command(
        ENVELOPE, uuid.uuid4(), labels=LABELS
    )

    assert (command.status, command.status_label) == (Status.IN_PROGRESS, "Install request")


def test_a_reply_with_an_unknown_label_is_a_422_naming_the_field_and_the_known_labels() -> None:
    request = ReplyRequest(body="Done.", status_label="Shipped")

    with pytest.raises(InvalidField) as raised:
        request.to_command(ENVELOPE, uuid.uuid4(), labels=LABELS)

    problem = raised.value.problem().model_dump(mode="json", by_alias=True, exclude_none=True)
    assert problem["status"] == 422
    assert [param["name"] for param in problem["invalid-params"]] == ["status_label"]
    assert [known["label"] for known in problem["known_labels"]] == ["Validation", "Install request", "To do"]


@pytest.mark.parametrize(
    ("fields", "invalid"),
    [
        ({"status": "in_progress", "status_label": "Validation"}, "status_label"),
        ({"visibility": "internal", "status": "on_hold"}, "status"),
        ({"visibility": "internal", "status_label": "To do"}, "status_label"),
        ({"status": "closed"}, "status"),
        ({"status": "customer_reply"}, "status"),
        ({"status_label": " "}, "status_label"),
    ],
)
def test_an_invalid_reply_request_names_the_field(fields: dict[str, object], invalid: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ReplyRequest.model_validate({"body": "Noted."} | fields)

    assert invalid_fields(raised.value) == {invalid}


def test_a_close_request_may_give_no_reason() -> None:
    ticket_id = uuid.uuid4()

    command = CloseRequest().to_command(ENVELOPE, ticket_id)

    assert command.ticket_id == ticket_id
    assert command.reason is None


@pytest.mark.parametrize(
    ("fields", "invalid"),
    [
        ({"body": "x"}, "subject"),
        ({"subject": "   ", "body": "x"}, "subject"),
        ({"subject": "x" * 201, "body": "x"}, "subject"),
        ({"subject": "Hi", "body": "bad\x00byte"}, "body"),
        ({"subject": "Hi", "body": "x", "channel": "email"}, "channel"),
        ({"subject": "Hi", "body": "x", "cc": ["not-an-address"]}, "cc.0"),
        ({"subject": "Hi", "body": "x", "priority": "asap"}, "priority"),
        ({"subject": "Hi", "body": "x", "priorty": "high"}, "priorty"),
    ],
)
def test_an_invalid_open_request_names_the_field(fields: dict[str, object], invalid: str) -> None:
    with pytest.raises(ValidationError) as raised:
        OpenTicketRequest.model_validate(fields)

    assert invalid in invalid_fields(raised.value)


@pytest.mark.parametrize(
    ("header", "version"),
    [(None, None), ("*", None), ("3", 3), ('"3"', 3), ('W/"12"', 12)],
)
def test_if_match_names_the_expected_version(header: str | None, version: int | None) -> None:
    assert expected_version(header) == version


def invalid_fields(error: ValidationError) -> set[str]:
    return {".".join(str(part) for part in each["loc"]) for each in error.errors()}
