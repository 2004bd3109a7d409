from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from hostdesk_contracts.subjects import Subjects
from hostdesk_tickets.runtime import build_application
from hostdesk_tickets.service_layer.application import TicketsApplication
from hostdesk_tickets.settings import Settings

from tests.support import EVENT_KEY


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
