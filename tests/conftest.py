"""Real servers for every test that needs one: found or started, never skipped.

Each test session gets its own database and its own NATS subject root, so sessions, and the tests within
them, need no cleanup and never see one another's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import Server, find_or_start_nats, find_or_start_postgres, with_database
from nats.js.errors import NotFoundError

RUN_DIR = Path(__file__).resolve().parent.parent / ".run" / "test-servers"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    server = find_or_start_postgres(RUN_DIR)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_server() -> Iterator[Server]:
    server = find_or_start_nats(RUN_DIR)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: Server) -> str:
    return nats_server.url


@pytest.fixture(scope="session")
def database_url(postgres_server: Server) -> Iterator[str]:
    """A fresh database for this test session, dropped at its end."""
    name = f"hostdesk_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(postgres_server.url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield with_database(postgres_server.url, name)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def subjects(nats_url: str) -> Iterator[Subjects]:
    """A subject root (and so streams) of the test's own, deleted after the test."""
    subjects = Subjects(root=f"t{uuid.uuid4().hex[:10]}")
    yield subjects
    asyncio.run(delete_streams(nats_url, subjects))


async def delete_streams(nats_url: str, subjects: Subjects) -> None:
    """Remove a test's streams and outcomes bucket, so repeated runs do not pile up on a shared server."""
    nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = nc.jetstream()
        for stream in (subjects.events_stream, subjects.commands_stream, f"KV_{subjects.outcomes_bucket}"):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(stream)
    finally:
        await nc.close()


@pytest.fixture
def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def db_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert pool is not None
    yield pool
    await pool.close()
