"""Intake against the real NATS: the app with its lifespan, a caller's token, and a tickets stand-in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.subjects import Subjects
from hostdesk_intake.settings import Settings

from tests.support import BucketCallers

from .harness import StandIn, serving, stand_in_for_tickets

SECRET = "integration-secret-0123456789abcdef"


@pytest.fixture
def intake_settings(
    nats_url: str, declared_streams: Subjects, service_nats: Callable[[str], dict[str, str]]
) -> Settings:
    return Settings(
        jwt_secret=SECRET,
        nats_url=nats_url,
        **service_nats("intake"),
        subject_root=declared_streams.root,
        instance=f"intake-test-{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture
async def caller(tenant: str, callers: BucketCallers) -> dict[str, str]:
    """The headers of a customer of the test's own tenant (recorded in the directory)."""
    return await callers.bearer(Actor(account_id="cust-1042", tenant=tenant, role=Role.CUSTOMER), secret=SECRET)


@pytest.fixture
async def stand_in(nats_url: str, subjects: Subjects) -> AsyncIterator[StandIn]:
    async with stand_in_for_tickets(nats_url, subjects) as stand_in:
        yield stand_in


@pytest.fixture
async def intake(intake_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(intake_settings) as client:
        yield client
