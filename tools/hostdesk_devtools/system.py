"""The whole system as real processes: the four services on one machine, for ``make run`` and end-to-end tests."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from hostdesk_contracts.runtime.sealing import new_key

from hostdesk_devtools.servers import NatsAccess, port_open

SERVICES = ("tickets", "query", "notify", "intake")  # started in this order: consumers before the front door
DEFAULT_PORTS = {"intake": 8001, "tickets": 8002, "notify": 8003, "query": 8004}


@dataclass
class SystemConfig:
    database_url: str
    nats_url: str
    jwt_secret: str
    smtp_port: int
    log_dir: Path
    subject_root: str = "tickets"
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    smtp_host: str = "127.0.0.1"
    # Intake's SMTP listener for support mail: 0, none (its replicas share the port).
    mail_port: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    # The passwords of the services' NATS users, on a server with authorisation on; None: connect without.
    nats_access: NatsAccess | None = None
    # The key of the relay's signature on events (``HOSTDESK_EVENT_KEY``).
    event_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # The key that seals support mailboxes' passwords (``INTAKE_MAILBOX_KEYS``).
    mailbox_key: str = field(default_factory=new_key)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def environment(self, service: str) -> dict[str, str]:
        prefix = service.upper()
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": self.database_url,
            "NATS_URL": self.nats_url,
            "HOSTDESK_JWT_SECRET": self.jwt_secret,
            "HOSTDESK_SUBJECT_ROOT": self.subject_root,
            "HOSTDESK_EVENT_KEY": self.event_key,
            **(self.nats_access.environment(service) if self.nats_access else {}),
            f"{prefix}_PORT": str(self.ports[service]),
            f"{prefix}_INSTANCE": f"{service}-{os.getpid()}",
            "NOTIFY_SMTP_HOST": self.smtp_host,
            "NOTIFY_SMTP_PORT": str(self.smtp_port),
            "INTAKE_SMTP_PORT": str(self.mail_port),
            "INTAKE_MAILBOX_KEYS": self.mailbox_key,
            **self.extra_env,
        }


class System:
    """Starts, kills and restarts the services; each writes its log to ``<log_dir>/<service>.log``."""

    def __init__(self, config: SystemConfig) -> None:
        self.config = config
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.replicas: dict[str, tuple[str, int]] = {}  # replica name -> (service, port)

    def start(self, *, ready_within: float = 60.0) -> None:
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        # Something else answering on a service's port would pass its readiness check for it.
        taken = [f"{service} {port}" for service, port in self.config.ports.items() if port_open("127.0.0.1", port)]
        if taken:
            raise RuntimeError(f"ports in use by another process: {', '.join(taken)}; stop it, or pick other ports")
        for service in SERVICES:
            self.start_service(service)
        for service in SERVICES:
            self.wait_ready(service, within=ready_within)

    def start_service(self, service: str) -> None:
        if service in self.replicas:
            self._start_replica(service)
            return
        log = (self.config.log_dir / f"{service}.log").open("ab")
        self.processes[service] = subprocess.Popen(
            [sys.executable, "-m", f"hostdesk_{service}"],
            env=self.config.environment(service),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def start_replica(self, service: str, *, name: str, port: int) -> None:
        """Another process of ``service``, with the same settings but its own port and instance name, known
        from then on as ``name`` to ``wait_ready``, ``kill``, ``restart`` and ``url``. It logs to ``<name>.log``."""
        if name in SERVICES:
            raise ValueError(f"a replica cannot be named like the service {name!r}")
        self.replicas[name] = (service, port)
        self._start_replica(name)

    def _start_replica(self, name: str) -> None:
        service, port = self.replicas[name]
        prefix = service.upper()
        environment = {**self.config.environment(service), f"{prefix}_PORT": str(port), f"{prefix}_INSTANCE": name}
        log = (self.config.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", f"hostdesk_{service}"], env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def url(self, name: str) -> str:
        """The base URL of a service or of a replica started with ``start_replica``."""
        if name in self.replicas:
            return f"http://127.0.0.1:{self.replicas[name][1]}"
        return self.config.url(name)

    def wait_ready(self, service: str, *, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        url = f"{self.url(service)}/readyz"
        while True:
            process = self.processes[service]
            if process.poll() is not None:
                raise RuntimeError(
                    f"{service} exited with {process.returncode}; see {self.config.log_dir}/{service}.log"
                )
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service} was not ready within {within:.0f}s; see {self.config.log_dir}")
            time.sleep(0.1)

    def kill(self, service: str) -> None:
        """``kill -9``: no shutdown, no drain, whatever was in flight is cut."""
        process = self.processes[service]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def restart(self, service: str) -> None:
        self.start_service(service)
        self.wait_ready(service)

    def stop(self, *, grace: float = 15.0) -> None:
        """SIGTERM to every service (the front door first), then SIGKILL to any still running after ``grace``."""
        for service in (*reversed(SERVICES), *self.replicas):
            process = self.processes.get(service)
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.processes.clear()
