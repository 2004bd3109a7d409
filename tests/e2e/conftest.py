"""The whole system as real processes on real PostgreSQL, NATS and SMTP, one system (and database) per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import Server, free_port, with_database
from hostdesk_devtools.smtp_sink import SmtpSink
from hostdesk_devtools.system import DEFAULT_PORTS, System, SystemConfig

from tests.support import BucketCallers

SECRET = "end-to-end-secret-0123456789abcdefghij"


@dataclass
class Running:
    system: System
    sink: SmtpSink
    tenant: str

    def client(self, service: str, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.system.config.url(service), headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    nats_url: str  # as admin: to record the test's callers in the directory
    subjects: Subjects

    async def token(self, account_id: str, role: Role, *, email: str | None = None) -> str:
        """The token of an account of the test's tenant, recorded in the directory first."""
        nc = await nats.connect(self.nats_url, connect_timeout=2, max_reconnect_attempts=1)
        try:
            caller = Actor(account_id=account_id, tenant=self.tenant, role=role, email=email)
            return await BucketCallers(nc.jetstream(), self.subjects).token(caller, secret=SECRET)
        finally:
            await nc.close()


async def _admin(server_url: str, sql: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def system_env() -> dict[str, str]:
    """Settings of the services beside the defaults: a module overrides this fixture when its system needs some
    (wider rate limits for a test that makes many calls as one account)."""
    return {}


@pytest.fixture
def running(
    postgres_server: Server,
    nats_server: Server,
    nats_url: str,
    subjects: Subjects,
    tmp_path: Path,
    system_env: dict[str, str],
) -> Iterator[Running]:
    database = f"hostdesk_e2e_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(postgres_server.url, f'CREATE DATABASE "{database}"'))
    sink = SmtpSink(port=free_port()).start()
    config = SystemConfig(
        database_url=with_database(postgres_server.url, database),
        nats_url=nats_url,
        jwt_secret=SECRET,
        smtp_port=sink.port,
        log_dir=tmp_path / "logs",
        subject_root=subjects.root,
        ports={service: free_port() for service in DEFAULT_PORTS},
        mail_port=free_port(),
        extra_env={"INTAKE_COMMIT_WAIT_SECONDS": "2", **system_env},
        nats_access=nats_server.access,
    )
    system = System(config)
    try:
        system.start()
        yield Running(system=system, sink=sink, tenant=f"t{uuid.uuid4().hex[:8]}", nats_url=nats_url, subjects=subjects)
    finally:
        system.stop()
        sink.stop()
        asyncio.run(_admin(postgres_server.url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
