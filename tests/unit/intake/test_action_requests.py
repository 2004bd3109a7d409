"""How the requests of a ticket's actions (status, assignment, fields, rating, archive, merge) become commands,
and which of them are refused before anything is sent."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hostdesk_contracts.base import Actor, Assignee, Priority, Rating, Role, Status
from hostdesk_contracts.commands import ArchiveTicket
from hostdesk_contracts.runtime.problems import Forbidden
from hostdesk_intake.api.problems import InvalidField
from hostdesk_intake.api.schemas.actions import (
    AssigneeRequest,
    BulkArchiveRequest,
    ChangeStatusRequest,
    MergeRequest,
    RatingRequest,
    UpdateTicketRequest,
    assignee_of,
    pickup_command,
    resolve_command,
    unassign_command,
)
from hostdesk_intake.domain.commands import Envelope
from hostdesk_intake.domain.status_labels import PLANETHOSTER_LABELS, StatusLabels
from pydantic import BaseModel, ValidationError

from .builders import NOW

AGENT = Actor(account_id="agent-7", tenant="acme", role=Role.AGENT, display_name="Grace", email="grace@host.example")
ENVELOPE = Envelope(command_id=str(uuid.uuid4()), actor=AGENT, issued_at=NOW, expected_version=4)
LABELS = StatusLabels(PLANETHOSTER_LABELS)
TICKET = uuid.uuid4()


def invalid_fields(model: type[BaseModel], fields: dict[str, Any]) -> set[str]:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(fields)
    return {".".join(str(part) for part in error["loc"]) for error in raised.value.errors()}


def test_a_status_change_by_name_carries_no_label_and_the_expected_version() -> None:
    command = ChangeStatusRequest(status=Status.ON_HOLD, reason="Waiting for the datacentre.").to_command(
        ENVELOPE, TICKET, labels=LABELS
    )

    assert (command.ticket_id, command.expected_version) == (TICKET, 4)
    assert (command.status, command.status_label, command.reason) == (
        Status.ON_HOLD,
        None,
        "Waiting for the datacentre.",
    )


def test_a_status_change_by_label_carries_the_labels_status() -> None:
    command = ChangeStatusRequest(label="validation").to_command(ENVELOPE, TICKET, labels=LABELS)

    assert (command.status, command.status_label) == (Status.IN_PROGRESS, "Validation")


def test_a_status_change_by_an_unknown_label_names_the_field() -> None:
    with pytest.raises(InvalidField) as raised:
        ChangeStatusRequest(label="Escalated").to_command(ENVELOPE, TICKET, labels=LABELS)

    problem = raised.value.problem().model_dump(mode="json", by_alias=True, exclude_none=True)
    assert [param["name"] for param in problem["invalid-params"]] == ["label"]
    assert {"label": "To do", "status": "on_hold"} in problem["known_labels"]


@pytest.mark.parametrize(
    ("fields", "invalid"),
    [
        ({}, {"label"}),
        ({"reason": "No status"}, {"label"}),
        ({"status": "answered", "label": "Validation"}, {"label"}),
        ({"status": "closed"}, {"status"}),
        ({"status": "pending"}, {"status"}),
        ({"label": ""}, {"label"}),
        ({"status": "open", "reason": "x" * 1001}, {"reason"}),
    ],
)
def test_a_status_change_gives_exactly_one_settable_status_or_label(fields: dict[str, Any], invalid: set[str]) -> None:
    assert invalid_fields(ChangeStatusRequest, fields) == invalid


def test_marking_resolved_is_a_change_to_resolved() -> None:
    command = resolve_command(ENVELOPE, TICKET)

    assert (command.status, command.status_label, command.expected_version) == (Status.RESOLVED, None, 4)


def test_picking_up_assigns_the_ticket_to_the_caller_as_the_token_names_them() -> None:
    command = pickup_command(ENVELOPE, TICKET)

    assert command.assignee == Assignee(account_id="agent-7", display_name="Grace", email="grace@host.example")


def test_a_caller_named_at_length_is_assigned_with_the_name_cut_and_no_overlong_address() -> None:
    actor = AGENT.model_copy(update={"display_name": "G" * 300, "email": "g" * 250 + "@x.example"})

    assignee = assignee_of(actor)

    assert (assignee.display_name, assignee.email) == ("G" * 200, None)


def test_an_account_id_no_assignee_can_hold_cannot_pick_up() -> None:
    with pytest.raises(Forbidden):
        assignee_of(AGENT.model_copy(update={"account_id": "a" * 201}))


def test_assigning_names_the_assignee_and_unassigning_names_none() -> None:
    assigned = AssigneeRequest(account_id=" agent-9 ", display_name="Linus").to_command(ENVELOPE, TICKET)
    unassigned = unassign_command(ENVELOPE, TICKET)

    assert assigned.assignee == Assignee(account_id="agent-9", display_name="Linus")
    assert unassigned.assignee is None


@pytest.mark.parametrize(
    ("fields", "invalid"),
    [
        ({}, {"account_id"}),
        ({"account_id": "  "}, {"account_id"}),
        ({"account_id": "a" * 201}, {"account_id"}),
        ({"account_id": "agent-9", "email": "nobody"}, {"email"}),
        ({"account_id": "agent-9", "name": "Linus"}, {"name"}),
    ],
)
def test_an_invalid_assignee_names_the_field(fields: dict[str, Any], invalid: set[str]) -> None:
    assert invalid_fields(AssigneeRequest, fields) == invalid


def test_an_update_changes_only_the_fields_it_gives_and_an_empty_list_clears() -> None:
    command = UpdateTicketRequest(priority=Priority.URGENT, cc=()).to_command(ENVELOPE, TICKET)

    assert (command.priority, command.cc) == (Priority.URGENT, ())
    assert (command.department, command.category, command.tags) == (None, None, None)


def test_an_update_keeps_each_tag_once() -> None:
    command = UpdateTicketRequest(tags=("vip", " dns", "vip")).to_command(ENVELOPE, TICKET)

    assert command.tags == ("vip", "dns")


@pytest.mark.parametrize(
    ("fields", "invalid"),
    [
        ({}, {""}),
        ({"priority": None, "tags": None}, {""}),
        ({"priority": "asap"}, {"priority"}),
        ({"department": " "}, {"department"}),
        ({"tags": ["x" * 51]}, {"tags.0"}),
        ({"tags": ["t"] * 21}, {"tags"}),
        ({"cc": ["not-an-address"]}, {"cc.0"}),
        ({"status": "open"}, {"status"}),
    ],
)
def test_an_update_that_changes_nothing_or_an_invalid_field_is_refused(
    fields: dict[str, Any], invalid: set[str]
) -> None:
    assert invalid_fields(UpdateTicketRequest, fields) == invalid


def test_a_rating_keeps_its_written_comment_and_a_blank_one_is_none() -> None:
    complaint = RatingRequest(rating=Rating.UNSATISFIED, comment="  Three days for a reboot.  ")
    praise = RatingRequest(rating=Rating.SATISFIED, comment="   ")

    assert complaint.to_command(ENVELOPE, TICKET).comment == "Three days for a reboot."
    assert praise.to_command(ENVELOPE, TICKET).comment is None


@pytest.mark.parametrize(
    ("fields", "invalid"),
    [
        ({"rating": "unsatisfied"}, {"comment"}),
        ({"rating": "unsatisfied", "comment": " \n "}, {"comment"}),
        ({"rating": "great"}, {"rating"}),
        ({"rating": "neutral", "comment": "x" * 4001}, {"comment"}),
    ],
)
def test_an_unsatisfied_rating_needs_a_written_complaint(fields: dict[str, Any], invalid: set[str]) -> None:
    assert invalid_fields(RatingRequest, fields) == invalid


def test_a_merge_names_the_target() -> None:
    target = uuid.uuid4()

    command = MergeRequest(into_ticket_id=target).to_command(ENVELOPE, TICKET)

    assert (command.ticket_id, command.into_ticket_id) == (TICKET, target)


def test_a_ticket_cannot_be_merged_into_itself() -> None:
    with pytest.raises(InvalidField) as raised:
        MergeRequest(into_ticket_id=TICKET).to_command(ENVELOPE, TICKET)

    assert raised.value.status == 422
    assert "into_ticket_id" in raised.value.detail


def test_a_bulk_archive_is_one_command_a_ticket_in_order_with_ids_derived_from_the_requests() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    request = BulkArchiveRequest(ticket_ids=[first, second], confirm=True)

    commands = request.to_commands(ENVELOPE)
    again = request.to_commands(ENVELOPE)

    assert all(isinstance(command, ArchiveTicket) for command in commands)
    assert [command.ticket_id for command in commands] == [first, second]
    assert [command.command_id for command in commands] == [command.command_id for command in again]
    assert len({command.command_id for command in commands} | {ENVELOPE.command_id}) == 3


@pytest.mark.parametrize(
    ("fields", "invalid"),
    [
        ({"ticket_ids": [str(TICKET)], "confirm": False}, {"confirm"}),
        ({"ticket_ids": [str(TICKET)]}, {"confirm"}),
        ({"ticket_ids": [], "confirm": True}, {"ticket_ids"}),
        ({"ticket_ids": [str(uuid.uuid4()) for _ in range(101)], "confirm": True}, {"ticket_ids"}),
        ({"ticket_ids": [str(TICKET), str(TICKET)], "confirm": True}, {"ticket_ids"}),
        ({"ticket_ids": ["482913"], "confirm": True}, {"ticket_ids.0"}),
    ],
)
def test_a_bulk_archive_is_confirmed_and_names_each_ticket_once(fields: dict[str, Any], invalid: set[str]) -> None:
    assert invalid_fields(BulkArchiveRequest, fields) == invalid


@pytest.mark.parametrize(
    ("model", "fields", "invalid"),
    [
        (AssigneeRequest, {"account_id": "agent\x00-9"}, "account_id"),
        (AssigneeRequest, {"account_id": "agent-9", "display_name": "Kim\x00"}, "display_name"),
        (UpdateTicketRequest, {"department": "Billing\x00"}, "department"),
        (UpdateTicketRequest, {"category": "Mail\x00"}, "category"),
        (UpdateTicketRequest, {"tags": ["a\x00b"]}, "tags.0"),
        (ChangeStatusRequest, {"status": "on_hold", "reason": "Waiting\x00"}, "reason"),
        (RatingRequest, {"rating": "unsatisfied", "comment": "Slow\x00"}, "comment"),
    ],
)
def test_text_the_database_cannot_store_is_refused_naming_its_field(
    model: type[BaseModel], fields: dict[str, Any], invalid: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(fields)

    (error,) = raised.value.errors()
    assert ".".join(str(part) for part in error["loc"]) == invalid
    assert "NUL" in error["msg"]
