"""The system refuses to start on a port another process answers on, whose readiness it would take for its own."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from hostdesk_devtools.servers import free_port
from hostdesk_devtools.system import DEFAULT_PORTS, System, SystemConfig


def test_a_port_in_use_stops_the_start_before_any_service_starts(tmp_path: Path) -> None:
    ports = {service: free_port() for service in DEFAULT_PORTS}
    config = SystemConfig(
        database_url="postgresql://unused",
        nats_url="nats://unused",
        jwt_secret="x" * 32,
        smtp_port=free_port(),
        log_dir=tmp_path,
        ports=ports,
    )
    system = System(config)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports["query"]))
        squatter.listen()

        with pytest.raises(RuntimeError, match=f"query {ports['query']}"):
            system.start()

    assert system.processes == {}
