"""``python -m hostdesk_intake``: run the intake service with settings from the environment."""

from __future__ import annotations

import gc
import logging
import math
import socket

import uvicorn

from hostdesk_intake.main import create_app
from hostdesk_intake.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    # On SIGTERM uvicorn stops accepting, lets requests in flight finish (each waits at most this long for
    # its outcome), then runs the lifespan's shutdown, which drains NATS.
    grace = math.ceil(settings.commit_wait_seconds + 3 * settings.publish_timeout_seconds) + 1
    # Objects made at start-up live for ever: keep the collector from walking them again and again,
    # which shows as a tail in request latencies.
    gc.freeze()
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=grace,
    )
    sockets = [shared_socket(settings.host, settings.port)] if settings.reuse_port else None
    uvicorn.Server(config).run(sockets=sockets)


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other intake processes may bind too: each is a whole process of its own, so one
    killed leaves the others serving, and the kernel spreads new connections among those alive."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    return listener


if __name__ == "__main__":
    main()
