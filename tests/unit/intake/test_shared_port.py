"""Several intake processes on one port: each binds the same address, and each has an outcomes inbox of its own."""

from __future__ import annotations

import socket

import pytest
from hostdesk_contracts.runtime.serve import shared_socket
from hostdesk_devtools.servers import free_port
from hostdesk_intake.adapters.nats_bus import inbox_token
from hostdesk_intake.settings import Settings


def test_two_listeners_share_a_port_and_both_accept() -> None:
    port = free_port()
    first, second = shared_socket("127.0.0.1", port), shared_socket("127.0.0.1", port)
    try:
        for listener in (first, second):
            listener.listen()
        clients = [socket.create_connection(("127.0.0.1", port), timeout=2) for _ in range(2)]
        for client in clients:
            client.close()
    finally:
        first.close()
        second.close()


def test_processes_named_alike_get_inboxes_of_their_own() -> None:
    token = inbox_token("intake.a b")

    assert token.startswith("intake_a_b_")
    assert token.removeprefix("intake_a_b_").isdigit()  # this process's id
    assert inbox_token("") != inbox_token("")


def test_a_stopping_intake_lets_a_request_in_flight_wait_its_whole_commit_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOSTDESK_JWT_SECRET", "x" * 32)
    monkeypatch.setenv("INTAKE_COMMIT_WAIT_SECONDS", "5")
    monkeypatch.setenv("INTAKE_PUBLISH_TIMEOUT_SECONDS", "2")

    grace = Settings().shutdown_grace_seconds()

    assert grace > 5 + 3 * 2  # the wait for the outcome, after three publish attempts
