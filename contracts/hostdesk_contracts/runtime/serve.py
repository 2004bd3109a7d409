"""``serve(create_app, Settings)``: what every service's ``python -m`` does, from the environment until SIGTERM."""

from __future__ import annotations

import gc
import logging
import socket
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from starlette.types import ASGIApp

from hostdesk_contracts.runtime.settings import CommonSettings

S = TypeVar("S", bound=CommonSettings)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def serve(create_app: Callable[[S], ASGIApp], settings_class: type[S]) -> None:
    """Read the settings, build the app and serve it.

    On SIGTERM uvicorn stops accepting, lets the requests in flight finish (for at most the settings'
    ``shutdown_grace_seconds()``), then runs the app's lifespan shutdown, which stops the workers and drains NATS.
    """
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    settings = settings_class()
    # Objects made at start-up live for ever: keep the collector from walking them again and again, which shows as
    # a tail in request latencies.
    gc.freeze()
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds(),
    )
    sockets = [shared_socket(settings.host, settings.port)] if settings.reuse_port else None
    uvicorn.Server(config).run(sockets=sockets)


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other processes of the same service may bind too: each is a whole process of its
    own, so one killed leaves the others serving, and the kernel spreads new connections among those alive."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    return listener
