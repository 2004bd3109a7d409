"""What a command's outcome answers over HTTP: every result and every refusal."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.responses import JSONResponse
from hostdesk_contracts.base import Status
from hostdesk_contracts.outcomes import Refusal
from hostdesk_contracts.runtime.problems import ProblemError
from hostdesk_intake.api.answers import answer, pending, refusal

from .builders import close_command, committed, open_command, refused, reply_command


def body_of(response: JSONResponse) -> Any:
    return json.loads(bytes(response.body))


def problem_of(error: ProblemError) -> dict[str, Any]:
    return error.problem().model_dump(mode="json", by_alias=True, exclude_none=True)


def test_a_committed_open_answers_201_with_the_new_tickets_location() -> None:
    command = open_command()

    response = answer(committed(command, number=482913), command=command)

    assert response.status_code == 201
    assert response.headers["Location"] == f"/v1/tickets/{command.ticket_id}"
    assert body_of(response) == {
        "command_id": command.command_id,
        "ticket_id": str(command.ticket_id),
        "number": 482913,
        "version": 1,
    }


def test_a_committed_reply_answers_201() -> None:
    command = reply_command(uuid.uuid4())

    response = answer(committed(command, version=4), command=command)

    assert response.status_code == 201
    assert body_of(response)["version"] == 4


def test_a_committed_close_answers_200() -> None:
    command = close_command(uuid.uuid4())

    response = answer(committed(command, version=5), command=command)

    assert response.status_code == 200
    assert body_of(response)["ticket_id"] == str(command.ticket_id)


def test_a_polled_open_answers_201_with_the_location_as_its_request_did() -> None:
    command = open_command()

    response = answer(committed(command), command=None)

    assert response.status_code == 201
    assert response.headers["Location"] == f"/v1/tickets/{command.ticket_id}"


def test_a_polled_close_answers_200() -> None:
    command = close_command(uuid.uuid4())

    response = answer(committed(command), command=None)

    assert response.status_code == 200
    assert "Location" not in response.headers


def test_a_refused_command_on_a_missing_ticket_is_404() -> None:
    command = reply_command(uuid.uuid4())

    with pytest.raises(ProblemError) as raised:
        answer(refused(command, Refusal.NOT_FOUND), command=command)

    assert raised.value.status == 404
    assert problem_of(raised.value)["ticket_id"] == str(command.ticket_id)


def test_a_conflict_is_409_naming_the_current_status() -> None:
    command = reply_command(uuid.uuid4())

    error = refusal(refused(command, Refusal.CONFLICT, current_status=Status.CLOSED))

    problem = problem_of(error)
    assert error.status == 409
    assert problem["current_status"] == "closed"
    assert "closed" in problem["detail"]
    assert problem["type"] == "urn:hostdesk:problem:ticket-status"


def test_a_value_the_rules_refuse_is_422_naming_its_field() -> None:
    command = open_command()

    error = refusal(refused(command, Refusal.INVALID, field="cc", detail="A requester sets at most 5 CC recipients."))

    problem = problem_of(error)
    assert error.status == 422
    assert problem["invalid-params"] == [{"name": "cc", "reason": "A requester sets at most 5 CC recipients."}]


def test_a_flood_of_posts_is_429_with_retry_after_and_asks_for_a_new_key() -> None:
    command = reply_command(uuid.uuid4())

    error = refusal(refused(command, Refusal.RATE_LIMITED, retry_after=42))

    assert error.status == 429
    assert error.headers == {"Retry-After": "42"}
    assert "new Idempotency-Key" in problem_of(error)["detail"]


def test_a_stale_version_is_409_naming_the_current_version() -> None:
    command = close_command(uuid.uuid4())

    error = refusal(refused(command, Refusal.STALE, current_version=7))

    problem = problem_of(error)
    assert error.status == 409
    assert problem["current_version"] == 7
    assert "7" in problem["detail"]
    assert problem["type"] == "urn:hostdesk:problem:stale-version"


def test_a_refusal_without_a_reason_is_a_plain_409_with_the_services_detail() -> None:
    command = close_command(uuid.uuid4())

    error = refusal(refused(command, None, detail="Tickets are frozen for an audit."))

    assert error.status == 409
    assert "frozen for an audit" in problem_of(error)["detail"]


def test_a_pending_command_answers_202_with_where_to_ask() -> None:
    command = open_command()

    response = pending(command.command_id, command.ticket_id)

    assert response.status_code == 202
    assert response.headers["Location"] == f"/v1/commands/{command.command_id}"
    assert response.headers["Retry-After"] == "1"
    assert body_of(response) == {
        "command_id": command.command_id,
        "ticket_id": str(command.ticket_id),
        "status": "pending",
    }
