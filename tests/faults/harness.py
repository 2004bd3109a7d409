"""The system under test for the fault suite: real service processes, an SMTP sink, tokens, and direct looks
into the databases the services keep."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.runtime.auth import issue_token
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools import callers
from hostdesk_devtools.servers import NatsAccess, free_port, with_database
from hostdesk_devtools.smtp_sink import SmtpSink
from hostdesk_devtools.system import DEFAULT_PORTS, System, SystemConfig

from tests.support import EVENT_KEY, principal_records

SECRET = "fault-suite-secret-0123456789abcdefghijkl"
# The load spreads over a few accounts: intake's limits of their opens and replies would refuse some of it.
UNLIMITED = {"INTAKE_OPENS_PER_ACCOUNT_PER_HOUR": "1000000000", "INTAKE_REPLIES_PER_ACCOUNT_PER_MINUTE": "1000000000"}


def long_run() -> bool:
    """``make faults`` sets ``HOSTDESK_FAULTS=all``: every fault, under a longer load."""
    return os.environ.get("HOSTDESK_FAULTS") == "all"


@dataclass(frozen=True)
class Pace:
    """How much load a fault scenario runs: ``rate`` requests a second; so many requests before the fault, while
    the part is down, and after it is back."""

    rate: float
    before: int
    during: int
    after: int


def pace() -> Pace:
    if long_run():
        return Pace(rate=40, before=400, during=200, after=600)
    return Pace(rate=20, before=50, during=30, after=60)


@dataclass
class Deployment:
    """A running system: its processes, its mail sink, the database they share, the tenant the test uses."""

    system: System
    sink: SmtpSink
    database_url: str
    tenant: str

    def token(self, account_id: str, role: Role, *, email: str | None = None) -> str:
        """The token of an account of the test's tenant, recorded in the directory first (on a loop of its own in
        a worker thread: callers ask from inside and outside a running loop)."""
        caller = Actor(account_id=account_id, tenant=self.tenant, role=role, email=email)
        config = self.system.config
        # As the admin (who may write the bucket), on a server with authorisation on.
        admin_url = (
            config.nats_url if config.nats_access is None else config.nats_access.url_as(config.nats_url, "admin")
        )
        recording = callers.record(admin_url, Subjects(root=config.subject_root), [*principal_records(caller)])
        with ThreadPoolExecutor(max_workers=1) as worker:
            worker.submit(asyncio.run, recording).result()
        return issue_token(secret=SECRET, account_id=account_id)

    def client(self, service: str, token: str | None = None, *, timeout: float = 30.0) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        limits = httpx.Limits(max_connections=300, max_keepalive_connections=100)
        return httpx.AsyncClient(base_url=self.system.url(service), headers=headers, timeout=timeout, limits=limits)

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.database_url, timeout=5)


async def admin(server_url: str, sql: str) -> None:
    connection = await asyncpg.connect(server_url, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def deployed(
    *,
    server_url: str,
    nats_url: str,
    subject_root: str,
    log_dir: Path,
    nats_access: NatsAccess | None,
    services: tuple[str, ...] | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Deployment]:
    """A database of its own on ``server_url``, an SMTP sink, and the services (all, or those named) started and
    ready; everything stopped and dropped afterwards."""
    database = f"hostdesk_faults_{uuid.uuid4().hex[:10]}"
    asyncio.run(admin(server_url, f'CREATE DATABASE "{database}"'))
    sink = SmtpSink(port=free_port()).start()
    config = SystemConfig(
        database_url=with_database(server_url, database),
        nats_url=nats_url,
        jwt_secret=SECRET,
        smtp_port=sink.port,
        log_dir=log_dir,
        subject_root=subject_root,
        ports={service: free_port() for service in DEFAULT_PORTS},
        extra_env={"INTAKE_COMMIT_WAIT_SECONDS": "2", **UNLIMITED, **(extra_env or {})},
        nats_access=nats_access,
        event_key=EVENT_KEY,
    )
    system = System(config)
    try:
        if services is None:
            system.start()
        else:
            log_dir.mkdir(parents=True, exist_ok=True)
            for service in services:
                system.start_service(service)
            for service in services:
                system.wait_ready(service)
        yield Deployment(system=system, sink=sink, database_url=config.database_url, tenant=f"t{uuid.uuid4().hex[:8]}")
    finally:
        system.stop()
        sink.stop()
        asyncio.run(admin(server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
