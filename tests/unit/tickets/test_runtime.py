"""The tickets app over a runtime built on fakes: readiness tells why it is not ready and who leads the relay;
the app leaves stopping a runtime it was given to its caller, and stopping stops every worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from hostdesk_contracts.runtime.clock import utc_now
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.entrypoints.auto_close import AutoCloser
from hostdesk_tickets.entrypoints.commands import CommandConsumer
from hostdesk_tickets.entrypoints.directory_projector import DirectoryProjector
from hostdesk_tickets.entrypoints.relay import Relay
from hostdesk_tickets.entrypoints.threads_projector import ThreadsProjector
from hostdesk_tickets.main import create_app
from hostdesk_tickets.runtime import Runtime
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings

from .builders import DIRECTORY

SETTINGS = Settings(HOSTDESK_JWT_SECRET="unit-secret-0123456789abcdefghijklmnop")


class FakeNats:
    """As much of a NATS connection as the runtime uses."""

    def __init__(self) -> None:
        self.is_connected = True
        self.drained = False

    async def drain(self) -> None:
        self.drained = True


def fake_runtime() -> Runtime:
    tickets = TicketsApplication(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    commands = CommandConsumer(
        app=tickets,
        nc=None,  # type: ignore[arg-type]
        js=None,  # type: ignore[arg-type]
        outcomes=None,  # type: ignore[arg-type]
        directory=DIRECTORY,
        subjects=SETTINGS.subjects,
        settings=SETTINGS,
    )
    relay = Relay(
        app=tickets,
        js=None,  # type: ignore[arg-type]
        subjects=SETTINGS.subjects,
        database_url=SETTINGS.database_url,
        signer=SETTINGS.event_signer(),
        lock_key=1,
    )
    auto_closer = AutoCloser(
        app=tickets,
        database_url=SETTINGS.database_url,
        schema="tickets",
        lock_key=2,
        idle=timedelta(days=7),
        interval_seconds=1.0,
        clock=utc_now,
    )
    directory_projector = DirectoryProjector(
        js=None,  # type: ignore[arg-type]
        bucket=None,  # type: ignore[arg-type]
        subjects=SETTINGS.subjects,
        signer=SETTINGS.event_signer(),
    )
    threads_projector = ThreadsProjector(
        js=None,  # type: ignore[arg-type]
        bucket=None,  # type: ignore[arg-type]
        subjects=SETTINGS.subjects,
        signer=SETTINGS.event_signer(),
    )
    workers = {
        "commands": commands.stopping,
        "relay": relay.stopping,
        "auto-close": auto_closer.stopping,
        "directory-projector": directory_projector.stopping,
        "threads-projector": threads_projector.stopping,
    }
    tasks = tuple(asyncio.create_task(stopping.wait(), name=name) for name, stopping in workers.items())
    return Runtime(
        tickets=tickets,
        nats=FakeNats(),  # type: ignore[arg-type]
        directory=MemoryDirectory(),
        commands=commands,
        relay=relay,
        auto_closer=auto_closer,
        directory_projector=directory_projector,
        threads_projector=threads_projector,
        tasks=tasks,  # type: ignore[arg-type]
    )


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    running = fake_runtime()
    yield running
    await running.stop()


def client_of(runtime: Runtime) -> httpx.AsyncClient:
    app = create_app(SETTINGS, runtime=runtime)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tickets")


async def test_a_replica_whose_workers_run_is_ready_and_tells_whether_it_leads_the_relay(runtime: Runtime) -> None:
    async with client_of(runtime) as client:
        standby = await client.get("/readyz")
        runtime.relay.is_leader = True
        leading = await client.get("/readyz")

    assert (standby.status_code, leading.status_code) == (200, 200)
    assert standby.json() == {"status": "ready", "reasons": [], "relay_leader": False}
    assert leading.json()["relay_leader"] is True


async def test_a_replica_without_nats_or_with_a_stopped_worker_is_not_ready_and_says_why(runtime: Runtime) -> None:
    runtime.nats.is_connected = False  # type: ignore[misc]
    runtime.relay.stop()
    await asyncio.wait_for(runtime.tasks[1], timeout=1)

    async with client_of(runtime) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["reasons"] == ["NATS is not connected", "these workers stopped: relay"]
    assert response.json()["relay_leader"] is False


async def test_a_replica_whose_event_store_cannot_be_read_is_not_ready(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def away() -> int:
        raise ConnectionRefusedError("PostgreSQL is away")

    monkeypatch.setattr(runtime.tickets.recorder, "max_notification_id", away)

    async with client_of(runtime) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["reasons"] == ["the event store cannot be read: ConnectionRefusedError"]


async def test_the_app_leaves_a_runtime_it_was_given_running_and_stop_ends_every_worker() -> None:
    running = fake_runtime()
    app = create_app(SETTINGS, runtime=running)

    async with app.router.lifespan_context(app):
        pass
    still_running = [task.get_name() for task in running.tasks if not task.done()]
    await running.stop()

    assert still_running == ["commands", "relay", "auto-close", "directory-projector", "threads-projector"]
    assert all(task.done() for task in running.tasks)
    assert running.nats.drained  # type: ignore[attr-defined]
