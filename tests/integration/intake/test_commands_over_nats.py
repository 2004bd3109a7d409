"""Intake and a stand-in tickets service over the real NATS: the command protocol, end to end."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from hostdesk_contracts.commands import CommandBase, PostReply, ticket_id_for
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.subjects import Subjects
from hostdesk_intake.settings import Settings
from nats.aio.msg import Msg

from tests.support import eventually

from .harness import StandIn, serving

OPEN = {"subject": "VPS down", "body": "vps-1042 does not answer since 09:12.", "priority": "urgent"}


async def stored_commands(stand_in: StandIn, subjects: Subjects) -> int:
    info = await stand_in.nc.jetstream().stream_info(subjects.commands_stream)
    messages: int = info.state.messages
    return messages


async def test_an_opened_ticket_answers_201_once_the_tickets_service_committed_it(
    intake: httpx.AsyncClient, stand_in: StandIn, caller: dict[str, str], tenant: str
) -> None:
    response = await intake.post("/v1/tickets", json=OPEN, headers=caller)

    assert response.status_code == 201
    body = response.json()
    assert body["ticket_id"] == str(ticket_id_for(body["command_id"]))
    assert (body["number"], body["version"]) == (482913, 1)
    assert response.headers["Location"] == f"/v1/tickets/{body['ticket_id']}"
    [command] = stand_in.handled
    assert (command.actor.tenant, command.actor.account_id) == (tenant, "cust-1042")


async def test_a_slow_commit_answers_202_and_the_command_link_answers_once_the_outcome_is_stored(
    intake_settings: Settings, stand_in: StandIn, caller: dict[str, str]
) -> None:
    stand_in.gate.clear()
    async with serving(intake_settings.model_copy(update={"commit_wait_seconds": 0.2})) as intake:
        accepted = await intake.post("/v1/tickets", json=OPEN, headers=caller)
        link = accepted.headers["Location"]
        meanwhile = await intake.get(link, headers=caller)

        stand_in.gate.set()
        decided: list[httpx.Response] = []

        async def outcome_is_in() -> bool:
            decided.append(await intake.get(link, headers=caller))
            return decided[-1].status_code != 202

        await eventually(outcome_is_in, within=10)

    assert accepted.status_code == 202
    assert accepted.json()["status"] == "pending"
    assert link == f"/v1/commands/{accepted.json()['command_id']}"
    assert meanwhile.status_code == 202
    assert decided[-1].status_code == 201
    assert decided[-1].json()["ticket_id"] == accepted.json()["ticket_id"]


async def test_the_same_idempotency_key_twice_stores_one_command_and_names_one_ticket(
    intake: httpx.AsyncClient, stand_in: StandIn, caller: dict[str, str], subjects: Subjects
) -> None:
    headers = caller | {"Idempotency-Key": "portal-form-8812"}

    first = await intake.post("/v1/tickets", json=OPEN, headers=headers)
    second = await intake.post("/v1/tickets", json=OPEN, headers=headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert await stored_commands(stand_in, subjects) == 1
    assert len(stand_in.handled) == 1


async def test_a_retry_reaching_another_instance_finds_the_outcome_the_first_instance_was_sent(
    intake_settings: Settings, stand_in: StandIn, caller: dict[str, str], subjects: Subjects
) -> None:
    headers = caller | {"Idempotency-Key": "alert-5521"}
    other_instance = intake_settings.model_copy(update={"instance": f"other-{uuid.uuid4().hex[:8]}"})

    async with serving(intake_settings) as first_instance, serving(other_instance) as second_instance:
        first = await first_instance.post("/v1/tickets", json=OPEN, headers=headers)
        retry = await second_instance.post("/v1/tickets", json=OPEN, headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert await stored_commands(stand_in, subjects) == 1


async def test_a_retry_while_the_first_is_still_pending_answers_once_the_command_commits(
    intake_settings: Settings, stand_in: StandIn, caller: dict[str, str], subjects: Subjects
) -> None:
    headers = caller | {"Idempotency-Key": "slow-9031"}
    impatient = intake_settings.model_copy(update={"commit_wait_seconds": 0.1})
    patient = intake_settings.model_copy(update={"instance": f"patient-{uuid.uuid4().hex[:8]}"})
    stand_in.gate.clear()

    async with serving(impatient) as first_instance, serving(patient) as second_instance:
        first = await first_instance.post("/v1/tickets", json=OPEN, headers=headers)
        looked = await bucket_lookups(stand_in, subjects)
        retry = asyncio.create_task(second_instance.post("/v1/tickets", json=OPEN, headers=headers))
        await asyncio.wait_for(looked.wait(), timeout=10)  # the retry found nothing in the bucket yet
        stand_in.gate.set()  # the answer goes to the first instance's inbox; the retry must find it in the bucket
        retried = await retry

    assert first.status_code == 202
    assert retried.status_code == 201
    assert retried.json()["ticket_id"] == first.json()["ticket_id"]
    assert await stored_commands(stand_in, subjects) == 1


async def bucket_lookups(stand_in: StandIn, subjects: Subjects) -> asyncio.Event:
    """Set once anyone reads an outcome in the outcomes bucket (seen on the JetStream API subjects a read is sent
    to), not a command's record, which the bucket holds too."""
    looked = asyncio.Event()

    async def seen(message: Msg) -> None:
        if b"record." not in message.data and ".record." not in message.subject:
            looked.set()

    stream = f"KV_{subjects.outcomes_bucket}"
    for subject in (
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.STREAM.MSG.GET.{stream}",
    ):
        await stand_in.nc.subscribe(subject, cb=seen)
    await stand_in.nc.flush()
    return looked


async def test_a_reply_at_a_stale_version_answers_409_with_the_current_version(
    intake: httpx.AsyncClient, stand_in: StandIn, caller: dict[str, str]
) -> None:
    def refuse_stale(command: CommandBase) -> CommandOutcome:
        assert isinstance(command, PostReply)
        return CommandOutcome(
            command_id=command.command_id,
            account_id=command.actor.account_id,
            ticket_id=command.ticket_id,
            result="refused",
            refusal=Refusal.STALE,
            current_version=4,
            detail=f"expected version {command.expected_version}",
        )

    stand_in.decide = refuse_stale

    response = await intake.post(
        f"/v1/tickets/{uuid.uuid4()}/replies", json={"body": "Any news?"}, headers=caller | {"If-Match": '"2"'}
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["current_version"] == 4
    assert "expected version 2" in response.json()["detail"]


async def test_intake_is_ready_once_linked_to_nats(intake: httpx.AsyncClient) -> None:
    response = await intake.get("/readyz")

    assert response.status_code == 200
