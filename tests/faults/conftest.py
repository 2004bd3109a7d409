"""The fault suite: the whole system under load while its parts are killed and restarted, the API fuzzed, and
poison messages fed to the consumers.

``make test`` runs the short version (a kill -9 of each service under a short load, the fuzzing, the poison
messages). ``make faults`` sets ``HOSTDESK_FAULTS=all``: the same with a longer load, and the scenarios marked
``faults_long`` (relay failover, NATS and PostgreSQL restarts), which ``make test`` deselects. Nothing is skipped.

Scenarios that restart NATS or PostgreSQL run on servers of their own, never on the machine's shared ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hostdesk_devtools.servers import OwnNats, OwnPostgres

from tests.faults.harness import Deployment, deployed, long_run


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults_long: a long fault scenario, run by `make faults` (HOSTDESK_FAULTS=all) only"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if long_run():
        return
    long = [item for item in items if item.get_closest_marker("faults_long") is not None]
    if long:
        config.hook.pytest_deselected(items=long)
        items[:] = [item for item in items if item.get_closest_marker("faults_long") is None]


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL server of the test's own, which it may kill and restart."""
    server = OwnPostgres().start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def own_nats() -> Iterator[OwnNats]:
    """A nats-server of the test's own, which it may kill and restart."""
    server = OwnNats().start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def own_deployment(own_postgres: OwnPostgres, own_nats: OwnNats, tmp_path: Path) -> Iterator[Deployment]:
    """The four services on servers of the test's own."""
    with deployed(
        server_url=own_postgres.url,
        nats_url=own_nats.url,
        nats_access=own_nats.access,
        subject_root="tickets",
        log_dir=tmp_path / "logs",
    ) as deployment:
        yield deployment
