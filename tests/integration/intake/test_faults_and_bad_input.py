"""What intake answers when NATS is away or the request is bad: a problem, never a 500."""

from __future__ import annotations

import httpx
from hostdesk_contracts.runtime.auth import issue_token
from hostdesk_devtools.servers import free_port
from hostdesk_intake.settings import Settings

from .harness import StandIn, serving

OPEN = {"subject": "Mail bounces", "body": "Every mail to info@ bounces."}


async def test_with_nats_unreachable_a_command_answers_503_with_retry_after(
    intake_settings: Settings, caller: dict[str, str]
) -> None:
    unreachable = intake_settings.model_copy(
        update={"nats_url": f"nats://127.0.0.1:{free_port()}", "startup_wait_seconds": 0.1}
    )

    async with serving(unreachable) as intake:
        opened = await intake.post("/v1/tickets", json=OPEN, headers=caller)
        polled = await intake.get("/v1/commands/0b7c6f7e-5d4e-4c3b-9a2f-1e0d9c8b7a6f", headers=caller)
        readiness = await intake.get("/readyz")

    assert opened.status_code == 503
    assert opened.headers["content-type"] == "application/problem+json"
    assert int(opened.headers["Retry-After"]) >= 1
    assert "nothing was done" in opened.json()["detail"]  # the caller cannot be looked up: no command is sent
    assert polled.status_code == 503
    assert readiness.status_code == 503


async def test_a_body_over_the_limit_answers_413(
    intake_settings: Settings, stand_in: StandIn, caller: dict[str, str]
) -> None:
    async with serving(intake_settings.model_copy(update={"max_body_bytes": 1024})) as intake:
        response = await intake.post("/v1/tickets", json=OPEN | {"body": "x" * 4000}, headers=caller)

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert stand_in.handled == []


async def test_an_invalid_body_answers_422_naming_each_invalid_field(
    intake: httpx.AsyncClient, caller: dict[str, str]
) -> None:
    response = await intake.post("/v1/tickets", json={"body": "", "priority": "asap"}, headers=caller)

    assert response.status_code == 422
    names = {param["name"] for param in response.json()["invalid-params"]}
    assert names == {"subject", "body", "priority"}


async def test_a_body_that_is_not_json_answers_422(intake: httpx.AsyncClient, caller: dict[str, str]) -> None:
    response = await intake.post(
        "/v1/tickets", content=b"{not json", headers=caller | {"Content-Type": "application/json"}
    )

    assert response.status_code == 422


async def test_a_ticket_id_that_is_not_a_uuid_answers_422(intake: httpx.AsyncClient, caller: dict[str, str]) -> None:
    response = await intake.post("/v1/tickets/482913/replies", json={"body": "Hello"}, headers=caller)

    assert response.status_code == 422
    assert [param["name"] for param in response.json()["invalid-params"]] == ["ticket_id"]


async def test_without_a_token_a_command_answers_401(intake: httpx.AsyncClient) -> None:
    response = await intake.post("/v1/tickets", json=OPEN)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_token_signed_with_another_key_answers_401(intake: httpx.AsyncClient) -> None:
    forged = issue_token(secret="another-installations-secret-0123456789", account_id="cust-1042")

    response = await intake.get("/v1/commands/abc", headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401
