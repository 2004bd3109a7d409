"""The system the benchmark measures: ``make run``'s setup, isolated so that figures are reproducible and the
demo's data is untouched. A fresh database and subject root, free ports, an SMTP sink in this process; the
database is dropped and the streams deleted at the end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import nats
from hostdesk_contracts.subjects import Subjects
from nats.js.errors import NotFoundError

from hostdesk_devtools.bench.traffic import TENANT
from hostdesk_devtools.servers import (
    Server,
    find_or_start_postgres,
    free_port,
    machine_nats_binary,
    start_nats,
    with_database,
)
from hostdesk_devtools.smtp_sink import ReceivedMail, SmtpSink
from hostdesk_devtools.system import SERVICES, System, SystemConfig

log = logging.getLogger(__name__)

# Intake limits each account's rate, and its opens and replies; the benchmark measures the system, not those limits.
UNLIMITED = {
    "INTAKE_RATE_LIMIT_PER_SECOND": "1000000",
    "INTAKE_RATE_LIMIT_BURST": "1000000",
    "INTAKE_OPENS_PER_ACCOUNT_PER_HOUR": "1000000000",
    "INTAKE_REPLIES_PER_ACCOUNT_PER_MINUTE": "1000000000",
}


@dataclass
class Stage:
    stamp: str
    run_dir: Path
    postgres: Server
    nats: Server
    database_url: str
    subjects: Subjects
    secret: str
    sink: SmtpSink
    system: System

    @property
    def database(self) -> str:
        return f"hostdesk_bench_{self.stamp}"

    @property
    def config(self) -> SystemConfig:
        return self.system.config

    def url(self, service: str) -> str:
        return self.config.url(service)


async def _admin(server_url: str, sql: str) -> None:
    connection = await asyncpg.connect(server_url, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def open_stage(
    stamp: str,
    run_dir: Path,
    *,
    on_mail: Callable[[ReceivedMail, Path | None], None],
    intake_processes: int = 1,
    environment: dict[str, str] | None = None,
) -> Stage:
    """Servers found or started, the bench database created, the sink listening; the services not yet.
    With several ``intake_processes`` intake listens with SO_REUSEPORT, so that ``start_intakes`` may add more."""
    postgres = await asyncio.to_thread(find_or_start_postgres, run_dir / "servers")
    try:
        nats_server = await asyncio.to_thread(
            start_nats, run_dir / "servers", binary=machine_nats_binary(), roots=[Subjects(root=f"bench{stamp}")]
        )
    except BaseException:
        postgres.stop()
        raise
    database = f"hostdesk_bench_{stamp}"
    try:
        await _admin(postgres.url, f'CREATE DATABASE "{database}"')
        sink = SmtpSink(port=free_port(), on_mail=on_mail).start()
    except BaseException:
        nats_server.stop()
        postgres.stop()
        raise
    database_url = with_database(postgres.url, database)
    subjects = Subjects(root=f"bench{stamp}")
    secret = secrets.token_urlsafe(32)
    config = SystemConfig(
        database_url=database_url,
        nats_url=nats_server.url,
        nats_access=nats_server.access,
        jwt_secret=secret,
        smtp_port=sink.port,
        log_dir=run_dir / stamp / "logs",
        subject_root=subjects.root,
        ports={service: free_port() for service in SERVICES},
        mail_port=free_port(),
        extra_env=dict(UNLIMITED)
        | ({"INTAKE_REUSE_PORT": "true"} if intake_processes > 1 else {})
        | (environment or {}),
    )
    return Stage(
        stamp=stamp,
        run_dir=run_dir,
        postgres=postgres,
        nats=nats_server,
        database_url=database_url,
        subjects=subjects,
        secret=secret,
        sink=sink,
        system=System(config),
    )


def operator(stage: Stage, *arguments: str) -> None:
    """The operator's command line (``hostdesk ...``) against the stage, as ``make run``'s demo runs it."""
    environment = {
        **os.environ,
        "HOSTDESK_NATS_URL": stage.nats.url_as("admin"),
        "HOSTDESK_ROOT": stage.subjects.root,
        "HOSTDESK_TENANT": TENANT,
        "HOSTDESK_JWT_SECRET": stage.secret,
        "HOSTDESK_DATABASE_URL": stage.database_url,
        "INTAKE_MAILBOX_KEYS": stage.config.mailbox_key,  # the installation's, as intake has it
    }
    subprocess.run(
        [sys.executable, "-m", "hostdesk_cli", *arguments], env=environment, check=True, stdout=subprocess.DEVNULL
    )


def start_intakes(system: System, processes: int) -> None:
    """The intake processes beyond the first, on the same port (the kernel spreads connections among them)."""
    for number in range(2, processes + 1):
        name = f"intake-{number}"
        system.start_replica("intake", name=name, port=system.config.ports["intake"])
        system.wait_ready(name)


async def delete_streams(nats_url: str, streams: list[str]) -> None:
    client = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = client.jetstream()
        for stream in streams:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(stream)
    finally:
        await client.close()


async def close_stage(stage: Stage) -> None:
    """Stop everything the stage started and remove its data, whatever failed before."""
    await asyncio.to_thread(stage.system.stop)
    await asyncio.to_thread(stage.sink.stop)
    streams = list(stage.subjects.every_stream)
    try:
        await delete_streams(stage.nats.url_as("admin"), streams)
    except (OSError, nats.errors.Error) as error:
        log.warning("could not delete the streams %s: %s", streams, error)
    try:
        await _admin(stage.postgres.url, f'DROP DATABASE IF EXISTS "{stage.database}" WITH (FORCE)')
    except (OSError, asyncpg.PostgresError) as error:
        log.warning("could not drop the database %s: %s", stage.database, error)
    stage.nats.stop()
    stage.postgres.stop()
