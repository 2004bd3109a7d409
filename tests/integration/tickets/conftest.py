from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from hostdesk_contracts.runtime.directory import KvDirectory
from hostdesk_contracts.runtime.nats import connect
from hostdesk_contracts.subjects import Subjects
from hostdesk_tickets.runtime import build_application
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings

from tests.support import EVENT_KEY, seed_bucket
from tests.unit.tickets.builders import COLLEAGUE, CUSTOMER, FOREIGN_STAFF, OTHER_CUSTOMER, STAFF


@pytest.fixture
def tickets_settings(
    database_url: str, nats_url: str, subjects: Subjects, service_nats: Callable[[str], dict[str, str]]
) -> Settings:
    """Settings with an event store of the test's own (its own schema) and the test's subject root."""
    return Settings(
        DATABASE_URL=database_url,
        NATS_URL=nats_url,
        HOSTDESK_JWT_SECRET="integration-secret-0123456789abcdefghij",
        HOSTDESK_SUBJECT_ROOT=subjects.root,
        HOSTDESK_EVENT_KEY=EVENT_KEY,
        **service_nats("tickets"),
        db_schema=f"tickets_{uuid.uuid4().hex[:10]}",
        relay_lock_key=uuid.uuid4().int % 2**62,
        relay_idle_poll_seconds=0.05,
    )


@pytest.fixture
def tickets_app(tickets_settings: Settings) -> Iterator[TicketsApplication]:
    app = build_application(tickets_settings)
    yield app
    app.close()


@pytest.fixture
async def tickets_directory(nats_url: str, subjects: Subjects) -> AsyncIterator[KvDirectory]:
    """The directory bucket of the test's installation, holding the unit tests' callers as the tickets service
    keeps them (``seed_bucket``), watched as the commands consumer reads it."""
    nc = await connect(nats_url, name="tickets-directory-test")
    await seed_bucket(nc.jetstream(), subjects, CUSTOMER, OTHER_CUSTOMER, STAFF, COLLEAGUE, FOREIGN_STAFF)
    directory = KvDirectory.on(nc, subjects=subjects)
    await directory.start(wait=10)
    assert directory.ready
    yield directory
    await directory.stop()
    await nc.close()
