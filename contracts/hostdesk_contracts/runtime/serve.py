"""``serve(create_app, Settings)``: what every service's ``python -m`` does, from the environment until SIGTERM.

The HTTP server is uvicorn over httptools, with two changes to what it does with a request it cannot take:

- The request line and headers together are bounded (``MAX_HEAD_BYTES``, 16 KiB as in Node; a bearer token is at
  most 4 KiB): a larger head answers 431 and closes the connection, counted as it arrives, so a client never
  makes the server hold more than a few times the bound.
- What the parser refuses (a NUL or another character not allowed in a header, a malformed request line, a
  head too large) answers ``application/problem+json`` like every other refusal, instead of uvicorn's plain
  text. The connection is closed after it, since the parser cannot tell where the next request would begin,
  but only once the client has read the answer: the server stops writing, then discards what still comes for
  at most ``LINGER_SECONDS`` (closing at once, with unread bytes, would reset the connection and lose it).

uvicorn has no public hook for either, so ``BoundedHttpProtocol`` extends its httptools protocol, whose version
the lock file pins; tests/integration/intake/test_http_server_bounds.py fails if an upgrade changes the hooks.
"""

from __future__ import annotations

import gc
import logging
import socket
from collections.abc import Callable
from typing import Any, TypeVar

import httptools
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE, Problem
from hostdesk_contracts.runtime.settings import CommonSettings

S = TypeVar("S", bound=CommonSettings)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
MAX_HEAD_BYTES = 16 * 1024
# Bytes that may arrive while a head is incomplete before the connection is refused: a read holding the end of a
# head may hold the start of its body too, which must not count.
HEAD_GUARD_BYTES = 1024 * 1024
LINGER_SECONDS = 2.0

log = logging.getLogger(__name__)


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
    sockets = [shared_socket(settings.host, settings.port)] if settings.reuse_port else None
    uvicorn.Server(server_config(create_app(settings), settings)).run(sockets=sockets)


def server_config(app: ASGIApp, settings: CommonSettings) -> uvicorn.Config:
    """How every service's HTTP server is configured (tests serve an app with it too)."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=BoundedHttpProtocol,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds(),
    )


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the head of a request bounded and its refusals as problems."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0  # of the current request's head, as the parser hands it over
        self._unparsed: int | None = 0  # received while a head is incomplete; None once it is complete
        self._refusal = 400
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # what still comes after a refusal is read and dropped
        if self._unparsed is not None:
            self._unparsed += len(data)
            if self._unparsed > HEAD_GUARD_BYTES:
                self._refuse(431, f"The request's line and headers are larger than {MAX_HEAD_BYTES} bytes.")
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # with ": " and the line's end
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._unparsed = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._unparsed = 0
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """What uvicorn sends for a request its parser refused: here a problem, 431 for a head too large."""
        if self._refusal == 431:
            self._refuse(431, f"The request's line and headers are larger than {MAX_HEAD_BYTES} bytes.")
        else:
            self._refuse(
                400,
                "The request is not valid HTTP/1.1: a header holds a character it may not, or the "
                "request line or a header is malformed.",
            )

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refusal = 431
            raise httptools.HttpParserError("the request's head is too large")

    def _refuse(self, status: int, detail: str) -> None:
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        title = "Request header fields too large" if status == 431 else "Bad request"
        body = Problem(title=title, status=status, detail=detail).model_dump_json(by_alias=True, exclude_none=True)
        content = body.encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.extend(
            [
                b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n",
                b"content-length: " + str(len(content)).encode() + b"\r\n",
                b"connection: close\r\n\r\n",
            ]
        )
        log.info("refused a request at the HTTP layer (%d): %s", status, detail)
        self.transport.write(b"".join(head) + content)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other processes of the same service may bind too: each is a whole process of its
    own, so one killed leaves the others serving, and the kernel spreads new connections among those alive."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    return listener
