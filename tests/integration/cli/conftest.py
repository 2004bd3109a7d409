"""The command line against a real installation: the tickets service on real PostgreSQL and NATS (it decides the
directory's commands and fills the directory bucket), and ``hostdesk`` run as the operator runs it, a process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from hostdesk_cli.records import parse_record
from hostdesk_contracts.directory import Record
from hostdesk_contracts.runtime.nats import connect
from hostdesk_contracts.subjects import Subjects
from hostdesk_tickets.runtime import Runtime, start
from hostdesk_tickets.settings import Settings
from nats.aio.client import Client
from nats.js.errors import BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from tests.support import EVENT_KEY, eventually

JWT_SECRET = "integration-secret-0123456789abcdefghij"
CLI_SECONDS = 60.0


@dataclass(frozen=True)
class Ran:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass(frozen=True)
class Hostdesk:
    """``hostdesk`` as a process, with the installation's settings in its environment."""

    env: dict[str, str]

    async def __call__(self, *args: str, wide: bool = True) -> Ran:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hostdesk_cli",
            *args,
            env={**self.env, "COLUMNS": "250"} if wide else self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=CLI_SECONDS)
        assert process.returncode is not None
        return Ran(process.returncode, stdout.decode(), stderr.decode())


@pytest.fixture
def tickets_settings(
    database_url: str, nats_url: str, subjects: Subjects, service_nats: Callable[[str], dict[str, str]]
) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        NATS_URL=nats_url,
        HOSTDESK_JWT_SECRET=JWT_SECRET,
        HOSTDESK_SUBJECT_ROOT=subjects.root,
        HOSTDESK_EVENT_KEY=EVENT_KEY,
        **service_nats("tickets"),
        db_schema=f"tickets_{uuid.uuid4().hex[:10]}",
        relay_lock_key=uuid.uuid4().int % 2**62,
        relay_idle_poll_seconds=0.05,
    )


@pytest.fixture
async def tickets(tickets_settings: Settings, nats_url: str, subjects: Subjects) -> AsyncIterator[Runtime]:
    """The tickets service's workers (commands, relay, directory projector), as its process runs them."""
    runtime = await start(tickets_settings)
    yield runtime
    await runtime.stop()
    await delete_directory_bucket(nats_url, subjects)


async def delete_directory_bucket(nats_url: str, subjects: Subjects) -> None:
    nc = await connect(nats_url, name="cli-test-cleanup")
    try:
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(f"KV_{subjects.directory_bucket}")
    finally:
        await nc.close()


@pytest.fixture
def provider() -> str:
    return f"host{uuid.uuid4().hex[:8]}"


@pytest.fixture
def hostdesk(nats_url: str, subjects: Subjects, database_url: str, provider: str) -> Hostdesk:
    kept = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")}
    return Hostdesk(
        env={
            **kept,
            "HOSTDESK_NATS_URL": nats_url,  # the admin, as operators connect
            "HOSTDESK_ROOT": subjects.root,
            "HOSTDESK_TENANT": provider,
            "HOSTDESK_JWT_SECRET": JWT_SECRET,
            "HOSTDESK_DATABASE_URL": database_url,
        }
    )


class Bucket:
    """The directory bucket as the tests look at it: records by key, waited for with a deadline."""

    def __init__(self, nc: Client, subjects: Subjects) -> None:
        self._nc, self._subjects = nc, subjects
        self._kv: KeyValue | None = None

    async def kv(self) -> KeyValue:
        if self._kv is None:
            self._kv = await self._nc.jetstream().key_value(self._subjects.directory_bucket)
        return self._kv

    async def entries(self) -> dict[str, tuple[bytes, int]]:
        """Every key's value and revision."""
        try:
            kv = await self.kv()
        except BucketNotFoundError:
            return {}
        watcher = await kv.watchall()
        found: dict[str, tuple[bytes, int]] = {}
        while (entry := await watcher.updates(timeout=5)) is not None:
            if entry.value:
                found[entry.key] = (entry.value, entry.revision or 0)
        await watcher.stop()
        return found

    async def record(self, key: str) -> Record | None:
        entry = (await self.entries()).get(key)
        return parse_record(key, entry[0]) if entry else None

    async def wait_for(self, key: str, *, version: int, within: float = 30.0) -> Record:
        """The record under ``key`` once the bucket has it at ``version`` (the projector follows the log)."""
        seen: list[Record | None] = [None]

        async def there() -> bool:
            seen[0] = await self.record(key)
            return seen[0] is not None and seen[0].version == version

        await eventually(there, within=within, what=lambda: f"{key} at version {version}; saw {seen[0]}")
        assert seen[0] is not None
        return seen[0]


@pytest.fixture
async def bucket(nats_url: str, subjects: Subjects) -> AsyncIterator[Bucket]:
    nc = await connect(nats_url, name="cli-test-bucket")
    yield Bucket(nc, subjects)
    await nc.close()


def json_of(value: bytes) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(value)
    return loaded
