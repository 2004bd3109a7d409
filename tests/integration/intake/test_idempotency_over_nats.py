"""Idempotency keys and command links against the real NATS: what a key's second use answers, whenever it comes
and whoever sends it, and who may read an outcome."""

from __future__ import annotations

import json
import uuid

import httpx
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.commands import OpenTicket, ticket_id_for
from hostdesk_contracts.runtime.nats import stream_configs
from hostdesk_contracts.subjects import MSG_ID, REPLY_TO, Subjects

from tests.support import BucketCallers, eventually

from .conftest import SECRET
from .harness import StandIn

OPEN = {"subject": "Mail bounces", "body": "Every mail to info@ bounces since 08:00."}


async def bearer(
    callers: BucketCallers, *, account_id: str = "cust-1042", tenant: str, name: str | None = None
) -> dict[str, str]:
    """A customer's header, the customer recorded in the directory as ``name`` first."""
    customer = Actor(account_id=account_id, tenant=tenant, role=Role.CUSTOMER, display_name=name)
    return await callers.bearer(customer, secret=SECRET)


async def forget_message_ids(stand_in: StandIn, subjects: Subjects, first: OpenTicket) -> None:
    """Bring about what ten minutes do: JetStream's de-duplication no longer knows the first command's id.

    The commands stream's window is made a tenth of a second; then a probe, another open published after the
    first, is published again under its own id until JetStream takes it as new: the probe's id was forgotten,
    and so was the older first one's. (The stand-in answers the probe, as the tickets service would.)
    """
    js = stand_in.nc.jetstream()
    [commands] = [config for config in stream_configs(subjects) if config.name == subjects.commands_stream]
    commands.duplicate_window = 0.1
    await js.update_stream(commands)
    probe_id = str(uuid.uuid4())
    probe = first.model_copy(update={"command_id": probe_id, "ticket_id": ticket_id_for(probe_id)})
    published = 0

    async def probe_taken_as_new_again() -> bool:
        nonlocal published
        ack = await js.publish(
            subjects.command(probe),
            probe.model_dump_json().encode(),
            headers={MSG_ID: probe_id, REPLY_TO: subjects.outcome("nobody", probe_id)},
        )
        published += not ack.duplicate
        return published == 2

    await eventually(probe_taken_as_new_again, within=10, what="JetStream forgetting message ids")


async def test_a_key_used_again_with_another_body_after_the_de_duplication_window_is_still_422(
    intake: httpx.AsyncClient, stand_in: StandIn, caller: dict[str, str], subjects: Subjects
) -> None:
    headers = caller | {"Idempotency-Key": "portal-form-4410"}
    first = await intake.post("/v1/tickets", json=OPEN, headers=headers)
    [sent] = stand_in.handled
    assert isinstance(sent, OpenTicket)
    await forget_message_ids(stand_in, subjects, sent)

    reused = await intake.post("/v1/tickets", json=OPEN | {"body": "Another problem entirely."}, headers=headers)
    retried = await intake.post("/v1/tickets", json=OPEN, headers=headers)

    assert first.status_code == 201
    assert reused.status_code == 422
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json()["type"] == "urn:hostdesk:problem:idempotency-key-reused"
    assert (retried.status_code, retried.json()) == (201, first.json())
    assert {command.body for command in stand_in.handled if isinstance(command, OpenTicket)} == {OPEN["body"]}


async def test_a_retry_with_a_refreshed_token_that_renames_the_caller_is_the_same_ticket(
    intake: httpx.AsyncClient, stand_in: StandIn, tenant: str, callers: BucketCallers
) -> None:
    key = {"Idempotency-Key": "portal-form-4411"}

    first = await intake.post("/v1/tickets", json=OPEN, headers=await bearer(callers, tenant=tenant, name="Ada") | key)
    retried = await intake.post(
        "/v1/tickets", json=OPEN, headers=await bearer(callers, tenant=tenant, name="Ada Lovelace") | key
    )

    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert len(stand_in.handled) == 1


async def test_accounts_whose_id_and_key_join_alike_open_two_tickets(
    intake: httpx.AsyncClient, stand_in: StandIn, tenant: str, callers: BucketCallers
) -> None:
    col = await intake.post(
        "/v1/tickets",
        json=OPEN,
        headers=await bearer(callers, account_id="col", tenant=tenant) | {"Idempotency-Key": "_aX"},
    )
    col_a = await intake.post(
        "/v1/tickets",
        json=OPEN | {"body": "Another account's problem."},
        headers=await bearer(callers, account_id="col_a", tenant=tenant) | {"Idempotency-Key": "X"},
    )

    assert (col.status_code, col_a.status_code) == (201, 201)
    assert col.json()["ticket_id"] != col_a.json()["ticket_id"]
    assert sorted(command.actor.account_id for command in stand_in.handled) == ["col", "col_a"]


async def test_an_account_of_another_tenant_cannot_read_a_commands_outcome(
    intake: httpx.AsyncClient, stand_in: StandIn, tenant: str, callers: BucketCallers
) -> None:
    opened = await intake.post(
        "/v1/tickets", json=OPEN, headers=await bearer(callers, tenant=tenant) | {"Idempotency-Key": "k-1"}
    )
    link = f"/v1/commands/{opened.json()['command_id']}"

    own = await intake.get(link, headers=await bearer(callers, tenant=tenant))
    stranger = await bearer(callers, account_id="cust-2042", tenant=f"{tenant}-other")
    elsewhere = await intake.get(link, headers=stranger)
    never_sent = await intake.get(f"{link[:-4]}0000", headers=stranger)

    assert own.status_code == 201
    assert elsewhere.status_code == 404
    assert elsewhere.headers["content-type"] == "application/problem+json"
    assert "ticket_id" not in elsewhere.json()
    # Known or not, the answer is the same: it tells nothing of whether the id exists.
    assert (never_sent.status_code, never_sent.json()["title"]) == (404, elsewhere.json()["title"])


async def test_what_the_records_hold_is_whose_command_it_is_and_the_requests_digest(
    intake: httpx.AsyncClient, stand_in: StandIn, tenant: str, callers: BucketCallers
) -> None:
    opened = await intake.post(
        "/v1/tickets", json=OPEN, headers=await bearer(callers, tenant=tenant) | {"Idempotency-Key": "k-2"}
    )

    entry = await stand_in.outcomes.get(f"record.{opened.json()['command_id']}")

    record = json.loads(entry.value or b"")
    assert (record["tenant"], record["account_id"]) == (tenant, "cust-1042")
    assert len(record["digest"]) == 64
