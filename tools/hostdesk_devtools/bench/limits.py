"""The machine's raw limits, measured in the same run as the product's figures.

- PostgreSQL: single-row INSERTs, each its own durable transaction (autocommit), one asyncpg connection.
- JetStream: publishes to a file-backed stream, awaiting each acknowledgement, one nats-py connection.
- HTTP: a trivial FastAPI endpoint on uvicorn (``trivial.py``) in its own process, hit by wrk with the same
  script and connections as the product; the figure is also the load generator's ceiling.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from asyncio.subprocess import Process
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import nats
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from hostdesk_devtools.bench.authorisation import AuthorisationCosts
from hostdesk_devtools.bench.wrk import Request, WrkRun, run_wrk
from hostdesk_devtools.servers import free_port, wait_for_port

PAYLOAD = b"x" * 256


@dataclass(frozen=True)
class RawLimits:
    postgres_inserts: float  # durable single-row inserts per second
    jetstream_publishes: float  # acknowledged publishes per second
    http: WrkRun  # wrk against the trivial endpoint
    authorisation: AuthorisationCosts  # the product's own check of each request, in process


async def postgres_inserts(database_url: str, *, seconds: float) -> float:
    """Single-row INSERTs into an ordinary (so WAL-logged, durable) table of the bench database."""
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS bench_limit_inserts (id bigserial PRIMARY KEY, body text NOT NULL)"
        )
        body = PAYLOAD.decode()
        count = 0
        started = time.monotonic()
        deadline = started + seconds
        while time.monotonic() < deadline:
            await connection.execute("INSERT INTO bench_limit_inserts (body) VALUES ($1)", body)
            count += 1
        elapsed = time.monotonic() - started
        await connection.execute("DROP TABLE bench_limit_inserts")
    finally:
        await connection.close()
    return count / elapsed


async def jetstream_publishes(nats_url: str, *, root: str, seconds: float) -> float:
    """``js.publish`` awaiting each ack, with a ``Nats-Msg-Id`` as the services send, into a stream of its own."""
    stream = f"{root.upper()}_LIMIT"
    client = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = client.jetstream()
        await js.add_stream(StreamConfig(name=stream, subjects=[f"{root}.limit.>"], storage=StorageType.FILE))
        try:
            count = 0
            started = time.monotonic()
            deadline = started + seconds
            while time.monotonic() < deadline:
                await js.publish(f"{root}.limit.publish", PAYLOAD, timeout=5, headers={"Nats-Msg-Id": f"limit-{count}"})
                count += 1
            elapsed = time.monotonic() - started
        finally:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(stream)
    finally:
        await client.close()
    return count / elapsed


async def trivial_endpoint(
    requests: Sequence[Request], *, folder: Path, connections: int, seconds: float, log: Path
) -> WrkRun:
    """wrk at full speed against the trivial endpoint, started in a process of its own for the purpose."""
    port = free_port()
    process = await start_process(["-m", "hostdesk_devtools.bench.trivial", "--port", str(port)], log=log)
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", port)
        return await run_wrk(
            f"http://127.0.0.1:{port}",
            requests,
            folder=folder,
            connections=connections,
            seconds=seconds,
            max_requests=int(seconds * 100_000),
        )
    finally:
        await stop_process(process)


async def start_process(arguments: list[str], *, log: Path, env: dict[str, str] | None = None) -> Process:
    """``python <arguments>`` in a process of its own, its output appended to ``log``."""
    output = await asyncio.to_thread(log.open, "ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, *arguments, env=env, stdout=output, stderr=asyncio.subprocess.STDOUT
        )
    finally:
        output.close()


async def stop_process(process: Process, *, grace: float = 15.0) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):  # it ended on its own, not yet reaped
            process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        process.kill()
        await process.wait()
