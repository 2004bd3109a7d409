"""Fixtures of notify's integration tests: an SMTP sink, notify's settings, a relay stand-in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.runtime.nats import connect, ensure_streams
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import free_port
from hostdesk_devtools.smtp_sink import SmtpSink
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_notify.settings import Settings

from tests.integration.notify.harness import JWT_SECRET, NotifyTables, Relay
from tests.support import EVENT_KEY
from tests.unit.notify.builders import REQUESTER_EMAIL

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on a free port, keeping every mail it receives."""
    with SmtpSink(port=free_port()) as sink:
        yield sink


@pytest.fixture
def notify_schema() -> str:
    return f"notify_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings_for(
    database_url: str,
    nats_url: str,
    declared_streams: Subjects,
    notify_schema: str,
    service_nats: Callable[[str], dict[str, str]],
) -> SettingsFactory:
    """Notify's settings for this test (its own schema and subject root), quick to retry and to sweep."""

    def make(*, smtp_port: int, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "DATABASE_URL": database_url,
            "NATS_URL": nats_url,
            "HOSTDESK_JWT_SECRET": JWT_SECRET,
            "HOSTDESK_SUBJECT_ROOT": declared_streams.root,
            "HOSTDESK_EVENT_KEY": EVENT_KEY,
            **service_nats("notify"),
            "db_schema": notify_schema,
            "smtp_port": smtp_port,
            "smtp_timeout": 5.0,
            "from_address": "HostDesk <noreply@hostdesk.test>",
            "support_address": "support@hostdesk.test",
            "retry_base_seconds": 0.1,
            "retry_max_seconds": 0.5,
            "sweep_interval": 0.1,
            "gap_retry_seconds": 0.1,
            "gap_retry_max_seconds": 1.0,
            "ack_wait_seconds": 2.0,  # the waits of a gap (6.5 s in all) outlast two of these
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture
def notify_settings(settings_for: SettingsFactory, smtp_sink: SmtpSink) -> Settings:
    return settings_for(smtp_port=smtp_sink.port)


@pytest.fixture
async def relay(nats_url: str, subjects: Subjects) -> AsyncIterator[Relay]:
    """Publishes as the tickets service's relay does (declaring the streams as the tickets service does)."""
    client = await connect(nats_url, name="notify-test-relay")
    js = client.jetstream()
    await ensure_streams(js, subjects)
    yield Relay(js, subjects)
    await client.close()


@pytest.fixture
def tables(db_pool: asyncpg.Pool, notify_schema: str) -> NotifyTables:
    return NotifyTables(db_pool, notify_schema)


@pytest.fixture
def story(tenant: str) -> TicketStory:
    """A ticket of this test's tenant, whose requester is mailed at ``REQUESTER_EMAIL``."""
    return TicketStory(account(tenant, name=None, email=REQUESTER_EMAIL))


@pytest.fixture
def staff(tenant: str) -> Actor:
    return account(tenant, Role.AGENT, name="Sam", email="sam@hostdesk.test")
