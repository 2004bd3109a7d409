"""Several intake processes on one port: each binds the same address, and each has an outcomes inbox of its own."""

from __future__ import annotations

import socket

from hostdesk_devtools.servers import free_port
from hostdesk_intake.__main__ import shared_socket
from hostdesk_intake.adapters.nats_bus import inbox_token


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
