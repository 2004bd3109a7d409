"""Forgeries on NATS, against the whole system on a NATS server with authorisation on: whoever may reach NATS
with a subscriber's or another service's credentials cannot act as a customer or as staff, cannot answer for
the tickets service, cannot put an event on the stream, and cannot read commands or outcomes. The server refuses
each attempt, and nothing changes. Behind that wall, what comes through a server configured wrongly (here: the
admin user) is still refused by the services themselves: a command on another tenant's subject, an event the
relay did not sign."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import nats
import pytest
from hostdesk_contracts.base import Actor, Role, Side, Visibility
from hostdesk_contracts.commands import CloseTicket, PostReply
from hostdesk_contracts.events import ReplyPosted, event_id_of
from hostdesk_contracts.outcomes import CommandOutcome
from hostdesk_contracts.runtime.nats_auth import inbox_prefix
from hostdesk_contracts.subjects import MSG_ID, Subjects, event_headers
from hostdesk_devtools.servers import Server
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from tests.e2e.conftest import Running
from tests.support import eventually

CUSTOMER_EMAIL = "jo@customer.example"
FORGED = "FORGED: your data was deleted"
# Who tries: the provider's other systems, and a service with rights of its own, but not these.
INTRUDERS = ("subscriber", "query", "notify")


class Intruder:
    """A connection as ``user``, keeping what the server told it went wrong."""

    def __init__(self, user: str, nc: Client, errors: list[str]) -> None:
        self.user, self.nc, self.errors = user, nc, errors

    async def refused(self, what: str) -> None:
        """The server has said it refused ``what`` (a publish or a subscription to it)."""
        await self.nc.flush()
        await eventually(
            lambda: _said(self.errors, what),
            within=10,
            what=lambda: f"{self.user}: {what!r} refused; saw {self.errors}",
        )


async def _said(errors: list[str], what: str) -> bool:
    # nats-py lowers the server's message.
    return any("permissions violation" in error.lower() and what.lower() in error.lower() for error in errors)


@pytest.fixture
async def intruders(nats_server: Server) -> AsyncIterator[dict[str, Intruder]]:
    connected: dict[str, Intruder] = {}
    for user in INTRUDERS:
        errors: list[str] = []

        async def on_error(error: Exception, errors: list[str] = errors) -> None:
            errors.append(str(error))

        nc = await nats.connect(
            nats_server.url_as(user),
            inbox_prefix=inbox_prefix(user),
            error_cb=on_error,
            connect_timeout=2,
            max_reconnect_attempts=1,
        )
        connected[user] = Intruder(user, nc, errors)
    yield connected
    for intruder in connected.values():
        await intruder.nc.close()


@pytest.fixture
async def admin(nats_url: str) -> AsyncIterator[Client]:
    nc = await nats.connect(nats_url, connect_timeout=2)
    yield nc
    await nc.close()


async def open_ticket(running: Running) -> tuple[str, dict[str, Any], httpx.AsyncClient, httpx.AsyncClient]:
    customer_token = await running.token("cust-1", Role.CUSTOMER, email=CUSTOMER_EMAIL)
    intake = running.client("intake", customer_token)
    reads = running.client("query", await running.token("agent-1", Role.AGENT))
    opened = await intake.post("/v1/tickets", json={"subject": "VPS down", "body": "vps-1042 answers no ping."})
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["ticket_id"]
    answer = await reads.get(f"/v1/tickets/{ticket_id}", params={"min_version": 1})
    assert answer.status_code == 200, answer.text
    return ticket_id, answer.json(), intake, reads


async def stream_messages(admin: Client, stream: str) -> int:
    messages: int = (await admin.jetstream().stream_info(stream)).state.messages
    return messages


def staff_reply(tenant: str, ticket_id: str, *, as_role: Role = Role.AGENT) -> PostReply:
    return PostReply(
        command_id=f"forged-{uuid.uuid4().hex}",
        ticket_id=uuid.UUID(ticket_id),
        actor=Actor(account_id="agent-1", tenant=tenant, role=as_role, display_name="Support"),
        issued_at=datetime.now(UTC),
        body=FORGED,
    )


def forged_event(tenant: str, ticket_id: str, version: int) -> ReplyPosted:
    return ReplyPosted(
        event_id=event_id_of(uuid.UUID(ticket_id), version),
        ticket_id=uuid.UUID(ticket_id),
        tenant=tenant,
        version=version,
        occurred_at=datetime.now(UTC),
        actor=Actor(account_id="agent-1", tenant=tenant, role=Role.AGENT),
        side=Side.HANDLER,
        command_id="forged",
        post_id="forged",
        body=FORGED,
        visibility=Visibility.PUBLIC,
    )


async def test_nobody_but_intake_and_the_relay_can_put_a_command_an_outcome_or_an_event_on_nats(
    running: Running, subjects: Subjects, intruders: dict[str, Intruder], admin: Client
) -> None:
    ticket_id, before, intake, reads = await open_ticket(running)
    commands_before = await stream_messages(admin, subjects.commands_stream)
    events_before = await stream_messages(admin, subjects.events_stream)
    tenant = running.tenant
    for intruder in intruders.values():
        reply = staff_reply(tenant, ticket_id)
        system = staff_reply(tenant, ticket_id, as_role=Role.SYSTEM)
        close = CloseTicket(
            command_id=f"forged-{uuid.uuid4().hex}",
            ticket_id=uuid.UUID(ticket_id),
            actor=Actor(account_id="cust-1", tenant=tenant, role=Role.CUSTOMER),
            issued_at=datetime.now(UTC),
        )
        for command in (reply, system, close):
            subject = subjects.command(command)
            await intruder.nc.publish(subject, command.model_dump_json().encode(), headers={MSG_ID: command.command_id})
            await intruder.refused(subject)
        outcome = CommandOutcome(
            command_id=reply.command_id, account_id="cust-1", ticket_id=reply.ticket_id, result="committed", version=99
        )
        outcome_key = f"$KV.{subjects.outcomes_bucket}.{reply.command_id}"
        await intruder.nc.publish(outcome_key, outcome.model_dump_json().encode())
        await intruder.refused(outcome_key)
        event = forged_event(tenant, ticket_id, before["version"] + 1)
        event_subject = subjects.event(tenant, event)
        await intruder.nc.publish(event_subject, event.model_dump_json().encode(), headers=event_headers(event))
        await intruder.refused(event_subject)

    assert await stream_messages(admin, subjects.commands_stream) == commands_before
    assert await stream_messages(admin, subjects.events_stream) == events_before
    stored = await intake.get(f"/v1/commands/{reply.command_id}")
    assert stored.status_code == 404, stored.text
    after = (await reads.get(f"/v1/tickets/{ticket_id}")).json()
    assert (after["version"], after["status"]) == (before["version"], before["status"])
    assert FORGED not in str(after)
    await intake.aclose()
    await reads.aclose()


async def test_a_subscriber_reads_events_but_no_command_no_outcome_and_none_of_the_products_consumers(
    running: Running, subjects: Subjects, intruders: dict[str, Intruder]
) -> None:
    ticket_id, _, intake, reads = await open_ticket(running)
    subscriber = intruders["subscriber"]
    js = subscriber.nc.jetstream()
    # What it is for: a consumer of its own on the events stream.
    own = await js.pull_subscribe(subjects.all_events, durable="billing", stream=subjects.events_stream)
    [message] = await own.fetch(1, timeout=10)
    assert message.headers is not None
    assert message.headers["Ticket-Id"] == ticket_id

    for subject in (subjects.all_commands, f"{subjects.root}.outcomes.>", f"$KV.{subjects.outcomes_bucket}.>"):
        await subscriber.nc.subscribe(subject)
        await subscriber.refused(subject)
    commands_consumer = f"$JS.API.CONSUMER.CREATE.{subjects.commands_stream}"
    with pytest.raises(TimeoutError):
        await js.add_consumer(subjects.commands_stream, ConsumerConfig(deliver_policy=DeliverPolicy.ALL), timeout=1)
    await subscriber.refused(commands_consumer)
    bucket_read = f"$JS.API.STREAM.INFO.KV_{subjects.outcomes_bucket}"
    with pytest.raises(TimeoutError):
        await js.key_value(subjects.outcomes_bucket)
    await subscriber.refused(bucket_read)
    # Query's and notify's durable consumers: pulling from them would take their messages away.
    for product in ("query", "notify"):
        pull = f"$JS.API.CONSUMER.MSG.NEXT.{subjects.events_stream}.{product}"
        await subscriber.nc.publish(pull, b'{"batch": 1}', reply=subscriber.nc.new_inbox())
        await subscriber.refused(pull)

    # The product's consumers still have every event: the staff reply below reaches query and the mail.
    staff = running.client("intake", await running.token("agent-1", Role.AGENT))
    answered = await staff.post(f"/v1/tickets/{ticket_id}/replies", json={"body": "Rebooted the host."})
    assert answered.status_code == 201, answered.text
    shown = await reads.get(f"/v1/tickets/{ticket_id}", params={"min_version": answered.json()["version"]})
    assert "Rebooted the host." in shown.text
    await running.sink.mailbox.wait_for_async(lambda m: "Rebooted the host." in m.body, within=30)
    for client in (staff, intake, reads):
        await client.aclose()


async def test_what_a_server_configured_wrongly_lets_through_the_services_still_refuse(
    running: Running, subjects: Subjects, admin: Client
) -> None:
    """Through the admin user (as a server with authorisation off would let anyone): a command on another
    tenant's subject, one by the product's own role, and an unsigned event at the ticket's next version."""
    ticket_id, before, intake, reads = await open_ticket(running)
    js = admin.jetstream()
    version = before["version"]
    elsewhere = staff_reply("another-tenant", ticket_id)
    await js.publish(
        f"{subjects.root}.commands.{running.tenant}.reply",
        elsewhere.model_dump_json().encode(),
        headers={MSG_ID: elsewhere.command_id},
    )
    system = staff_reply(running.tenant, ticket_id, as_role=Role.SYSTEM)
    await js.publish(subjects.command(system), system.model_dump_json().encode(), headers={MSG_ID: system.command_id})
    event = forged_event(running.tenant, ticket_id, version + 1)
    await js.publish(
        subjects.event(running.tenant, event), event.model_dump_json().encode(), headers=event_headers(event)
    )

    # The real event at that version comes after the forged one, and is the one everybody sees.
    staff = running.client("intake", await running.token("agent-1", Role.AGENT))
    answered = await staff.post(f"/v1/tickets/{ticket_id}/replies", json={"body": "Rebooted the host."})
    assert answered.status_code == 201, answered.text
    # Neither forged command was applied: the staff reply and the status it sets are the next two versions.
    assert answered.json()["version"] == version + 2
    shown = httpx.Response(0)

    async def caught_up() -> bool:
        nonlocal shown
        shown = await reads.get(f"/v1/tickets/{ticket_id}")
        return bool(shown.json()["version"] >= version + 2)

    await eventually(caught_up, within=30, what=lambda: shown.text)
    posts = [(entry["version"], entry.get("body")) for entry in shown.json()["timeline"] if entry["kind"] == "post"]
    assert posts == [(version + 1, "Rebooted the host.")], shown.text
    await running.sink.mailbox.wait_for_async(lambda m: "Rebooted the host." in m.body, within=30)

    assert "Rebooted the host." in shown.text
    assert FORGED not in shown.text
    assert not running.sink.mailbox.matching(lambda m: FORGED in m.body)
    for client in (staff, intake, reads):
        await client.aclose()
