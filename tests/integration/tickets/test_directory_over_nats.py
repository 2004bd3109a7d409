"""The directory over real PostgreSQL and NATS, every part logged in as the tickets service: a put over NATS is
decided once, its event goes out signed in log order, and the bucket holds the latest record; refusals record
nothing anywhere; the bucket is the services' to read and never the subscriber's."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.directory import (
    AccountChanged,
    AccountKind,
    AccountRecord,
    AnyDirectoryCommand,
    Configuration,
    Configure,
    Department,
    PutAccount,
    PutStaff,
    StaffRecord,
    StaffRole,
    record_key,
)
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.runtime.directory import KvDirectory
from hostdesk_contracts.runtime.nats import connect, directory_bucket, ensure_streams, outcomes_bucket
from hostdesk_contracts.runtime.nats_auth import inbox_prefix
from hostdesk_contracts.subjects import ES_POSITION, EVENT_TYPE, MSG_ID, REPLY_TO, TICKET_ID, Subjects
from hostdesk_devtools.servers import Server
from hostdesk_tickets.entrypoints.commands import CommandConsumer
from hostdesk_tickets.entrypoints.directory_projector import DirectoryProjector
from hostdesk_tickets.entrypoints.relay import Relay
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings
from nats.aio.client import Client
from nats.aio.subscription import Subscription
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from tests.support import RELAY_SIGNER, eventually
from tests.unit.tickets.builders import NOW

INBOX = "directory-test"


class Directory:
    """The tickets service's commands consumer, relay and directory projector on NATS, and a test's view of them."""

    def __init__(
        self, *, app: TicketsApplication, admin: Client, bucket: KeyValue, subjects: Subjects, inbox: Subscription
    ) -> None:
        self.app, self.admin, self.js, self.bucket, self.subjects = app, admin, admin.jetstream(), bucket, subjects
        self.inbox = inbox
        self.tenant = f"p{uuid.uuid4().hex[:8]}"
        self.provider = Actor(account_id=self.tenant, tenant=self.tenant, role=Role.PROVIDER)

    async def send(self, command: AnyDirectoryCommand, *, message_id: str | None = None) -> CommandOutcome:
        """Publish ``command`` as intake does (a fresh Msg-Id defeats JetStream's de-duplication, as a late
        redelivery would) and wait for its outcome."""
        headers = {MSG_ID: message_id or str(uuid.uuid4()), REPLY_TO: self.subjects.outcome(INBOX, command.command_id)}
        await self.js.publish(self.subjects.command(command), command.model_dump_json().encode(), headers=headers)
        reply = await self.inbox.next_msg(timeout=15)
        return CommandOutcome.model_validate_json(reply.data)

    def put(self, record: AccountRecord, actor: Actor | None = None, **fields: Any) -> PutAccount:
        return PutAccount(
            command_id=str(uuid.uuid4()), actor=actor or self.provider, issued_at=NOW, account=record, **fields
        )

    def account(self, account_id: str, kind: AccountKind, parent_id: str | None = None, **fields: Any) -> AccountRecord:
        fields.setdefault("display_name", account_id.title())
        return AccountRecord(id=account_id, kind=kind, parent_id=parent_id, **fields)

    async def found(self) -> None:
        outcome = await self.send(self.put(self.account(self.tenant, AccountKind.PROVIDER)))
        assert outcome.result == "committed", outcome

    async def stored(self, key: str) -> tuple[dict[str, Any] | None, int]:
        """The record under ``key`` in the bucket (None: none) and its revision."""
        try:
            entry = await self.bucket.get(key)
        except KeyNotFoundError:
            return None, 0
        return json.loads(entry.value or b"null"), entry.revision or 0

    async def in_bucket(self, key: str, version: int) -> dict[str, Any]:
        async def there() -> bool:
            record, _ = await self.stored(key)
            return record is not None and record["version"] >= version

        await eventually(there, within=15, what=f"{key} at version {version} in the directory bucket")
        record, _ = await self.stored(key)
        assert record is not None
        return record

    def logged(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    async def published(self) -> int:
        """Wait until the relay has every logged event on the stream; their number."""
        logged = self.logged()

        async def all_out() -> bool:
            info = await self.js.stream_info(self.subjects.events_stream)
            return bool(info.state.messages >= logged)

        await eventually(all_out, within=15, what=f"{logged} events on the stream")
        return logged


@pytest.fixture
async def directory(
    tickets_app: TicketsApplication, tickets_settings: Settings, subjects: Subjects
) -> AsyncIterator[Directory]:
    service = await connect(
        tickets_settings.nats_url, name="tickets-directory-test", **tickets_settings.nats_credentials()
    )
    js = service.jetstream()
    await ensure_streams(js, subjects)
    bucket = await directory_bucket(js, subjects)
    signer = tickets_settings.event_signer()
    workers = [
        CommandConsumer(
            app=tickets_app,
            nc=service,
            js=js,
            outcomes=await outcomes_bucket(js, subjects),
            directory=KvDirectory.on(service, subjects=subjects),  # ticket commands only: none here
            subjects=subjects,
            settings=tickets_settings,
        ),
        Relay(
            app=tickets_app,
            js=js,
            subjects=subjects,
            database_url=tickets_settings.database_url,
            lock_key=tickets_settings.relay_lock_key,
            signer=signer,
            idle_poll_seconds=0.05,
        ),
        DirectoryProjector(js=js, bucket=bucket, subjects=subjects, signer=signer),
    ]
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    admin = await nats.connect(tickets_settings.nats_url, connect_timeout=2)
    inbox = await admin.subscribe(subjects.outcome_inbox(INBOX))
    yield Directory(app=tickets_app, admin=admin, bucket=bucket, subjects=subjects, inbox=inbox)
    for worker in workers:
        worker.stop()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=15)
    await admin.close()
    await service.close()


async def test_a_put_account_over_nats_is_committed_published_signed_and_kept_in_the_bucket(
    directory: Directory,
) -> None:
    provider = directory.account(directory.tenant, AccountKind.PROVIDER, email="ops@provider.example")

    outcome = await directory.send(directory.put(provider))

    assert (outcome.result, outcome.key, outcome.version) == ("committed", f"principal.{directory.tenant}", 1)
    stored = await directory.in_bucket(record_key(provider), 1)
    assert AccountRecord.model_validate(stored) == provider
    await directory.published()
    message = await directory.js.get_last_msg(directory.subjects.events_stream, directory.subjects.all_events)
    headers = message.headers or {}
    assert message.subject == f"{directory.subjects.root}.events.{directory.tenant}.directory.account_changed.v1"
    assert RELAY_SIGNER.verify(message.subject or "", headers, message.data or b"")
    assert (headers[MSG_ID], headers[EVENT_TYPE], headers[ES_POSITION]) == (
        f"principal.{directory.tenant}:1",
        "directory.account_changed.v1",
        "1",
    )
    assert TICKET_ID not in headers
    event = AccountChanged.model_validate_json(message.data or b"")
    assert (event.account, event.tenant) == (provider, directory.tenant)


async def test_the_same_put_again_records_nothing_and_leaves_the_bucket_alone(directory: Directory) -> None:
    await directory.found()
    key = f"principal.{directory.tenant}"
    await directory.in_bucket(key, 1)
    _, revision = await directory.stored(key)

    again = await directory.send(directory.put(directory.account(directory.tenant, AccountKind.PROVIDER)))

    assert (again.result, again.version) == ("committed", 1)
    assert directory.logged() == 1
    assert await directory.published() == 1
    assert (await directory.stored(key))[1] == revision


async def test_a_tree_is_built_and_a_customer_moves_to_another_reseller(directory: Directory) -> None:
    await directory.found()
    tenant = directory.tenant
    for record in (
        directory.account("res-a" + tenant, AccountKind.RESELLER, tenant),
        directory.account("res-b" + tenant, AccountKind.RESELLER, tenant),
        directory.account("cust" + tenant, AccountKind.CUSTOMER, "res-a" + tenant),
        directory.account("ftp" + tenant, AccountKind.SUBACCOUNT, "cust" + tenant),
    ):
        assert (await directory.send(directory.put(record))).result == "committed"

    moved = await directory.send(
        directory.put(directory.account("cust" + tenant, AccountKind.CUSTOMER, "res-b" + tenant))
    )

    assert (moved.result, moved.version) == ("committed", 2)
    stored = await directory.in_bucket(f"principal.cust{tenant}", 2)
    assert stored["parent_id"] == "res-b" + tenant
    assert (await directory.in_bucket(f"principal.ftp{tenant}", 1))["parent_id"] == "cust" + tenant
    await directory.published()
    last = await directory.js.get_last_msg(directory.subjects.events_stream, directory.subjects.all_events)
    assert AccountChanged.model_validate_json(last.data or b"").from_parent_id == "res-a" + tenant


async def test_refusals_record_nothing_in_the_log_on_the_stream_or_in_the_bucket(
    directory: Directory, subjects: Subjects
) -> None:
    await directory.found()
    tenant = directory.tenant
    await directory.send(directory.put(directory.account("res" + tenant, AccountKind.RESELLER, tenant)))
    departments = (Department(name="Support"), Department(name="Billing"))
    configuration = Configuration(organisation_id=tenant, departments=departments)
    configure = Configure(
        command_id=str(uuid.uuid4()), actor=directory.provider, issued_at=NOW, configuration=configuration
    )
    assert (await directory.send(configure)).result == "committed"
    agent = StaffRecord(id="agent" + tenant, organisation_id=tenant, role=StaffRole.AGENT, display_name="Sam")
    staffed = PutStaff(command_id=str(uuid.uuid4()), actor=directory.provider, issued_at=NOW, staff=agent)
    assert (await directory.send(staffed)).result == "committed"
    await directory.in_bucket(f"configuration.{tenant}", 1)
    await directory.in_bucket(f"principal.agent{tenant}", 1)
    logged, stream = directory.logged(), await directory.published()
    bucket_before = (await directory.js.stream_info(f"KV_{subjects.directory_bucket}")).state.last_seq
    foreign = Actor(account_id="globex", tenant="globex", role=Role.PROVIDER)
    as_agent = Actor(account_id="agent" + tenant, tenant=tenant, role=Role.AGENT, organisation_id=tenant)

    refusals = [
        await directory.send(directory.put(directory.account("r2" + tenant, AccountKind.RESELLER, "res" + tenant))),
        await directory.send(
            directory.put(directory.account("res" + tenant, AccountKind.RESELLER, tenant, display_name="X"), foreign)
        ),
        await directory.send(
            Configure(
                command_id=str(uuid.uuid4()),
                actor=as_agent,
                issued_at=NOW,
                configuration=configuration.model_copy(
                    update={"departments": (*departments, Department(name="Sales"))}
                ),
            )
        ),
        await directory.send(
            Configure(
                command_id=str(uuid.uuid4()),
                actor=directory.provider,
                issued_at=NOW,
                configuration=configuration.model_copy(update={"departments": departments[:1]}),
            )
        ),
    ]

    assert [(outcome.refusal, outcome.field) for outcome in refusals] == [
        (Refusal.INVALID, "parent_id"),
        (Refusal.NOT_FOUND, None),
        (Refusal.NOT_FOUND, None),
        (Refusal.INVALID, "departments"),
    ]
    assert directory.logged() == logged
    assert (await directory.js.stream_info(directory.subjects.events_stream)).state.messages == stream
    assert (await directory.js.stream_info(f"KV_{subjects.directory_bucket}")).state.last_seq == bucket_before


async def test_a_directory_command_delivered_again_is_applied_once(directory: Directory) -> None:
    await directory.found()
    put = directory.put(directory.account("res" + directory.tenant, AccountKind.RESELLER, directory.tenant))

    first = await directory.send(put)
    second = await directory.send(put)

    assert first == second
    assert (first.result, first.version) == ("committed", 1)
    assert directory.logged() == 2


async def test_the_relay_resumes_after_directory_events_without_sending_any_twice(
    directory: Directory, tickets_app: TicketsApplication, tickets_settings: Settings, subjects: Subjects
) -> None:
    await directory.found()
    for n in range(5):
        await directory.send(
            directory.put(directory.account(f"res{n}{directory.tenant}", AccountKind.RESELLER, directory.tenant))
        )
    published = await directory.published()
    service = await connect(tickets_settings.nats_url, name="second-relay", **tickets_settings.nats_credentials())
    second = Relay(
        app=tickets_app,
        js=service.jetstream(),
        subjects=subjects,
        database_url=tickets_settings.database_url,
        lock_key=uuid.uuid4().int % 2**62,  # leads at once, beside the first
        signer=tickets_settings.event_signer(),
    )

    resumed_at, _ = await second._resume_point()
    await service.close()

    assert (resumed_at, published) == (6, 6)


@pytest.mark.parametrize("user", ["intake", "query", "notify"])
async def test_the_services_read_the_directory_bucket(
    directory: Directory, nats_server: Server, subjects: Subjects, user: str
) -> None:
    await directory.found()
    await directory.in_bucket(f"principal.{directory.tenant}", 1)
    reader = await nats.connect(nats_server.url_as(user), inbox_prefix=inbox_prefix(user), connect_timeout=2)
    try:
        bucket = await reader.jetstream().key_value(subjects.directory_bucket)
        entry = await bucket.get(f"principal.{directory.tenant}")
    finally:
        await reader.close()

    assert AccountRecord.model_validate_json(entry.value or b"").id == directory.tenant


async def test_the_subscriber_may_not_read_the_directory_bucket(
    directory: Directory, nats_server: Server, subjects: Subjects
) -> None:
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    subscriber = await nats.connect(
        nats_server.url_as("subscriber"), inbox_prefix=inbox_prefix("subscriber"), error_cb=on_error, connect_timeout=2
    )
    try:
        with pytest.raises(TimeoutError):
            await subscriber.jetstream(timeout=1).key_value(subjects.directory_bucket)
        await subscriber.subscribe(f"$KV.{subjects.directory_bucket}.>")
        await subscriber.flush()

        async def refused() -> bool:
            return sum("permissions violation" in error.lower() for error in errors) >= 2

        await eventually(refused, within=10, what=lambda: f"both refused; saw {errors}")
    finally:
        await subscriber.close()
