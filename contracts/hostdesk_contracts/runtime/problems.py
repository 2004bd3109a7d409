"""One translation point from errors to RFC 9457 problem+json responses, for every service.

A body that is not JSON a service can read is a 422 naming ``body``: malformed JSON (FastAPI's own check), and
JSON that parses as text but not as values (a number of more digits than Python converts, 4,300; nesting deeper
than the parser recurses; bytes that are not UTF-8), which FastAPI answers as a bare 400. A body larger than
the service's limit is a 413, announced (``Content-Length``) or streamed (chunked): ``BodySizeLimit``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hostdesk_contracts.problems import PROBLEM_MEDIA_TYPE, InvalidParam, Problem

log = logging.getLogger(__name__)


class ProblemError(Exception):
    """An error with a known HTTP meaning. Subclasses set ``status`` and ``title``."""

    status = 500
    title = "Internal error"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def problem(self, instance: str | None = None) -> Problem:
        return Problem(title=self.title, status=self.status, detail=self.detail, instance=instance, **self.extensions)


class Unauthorized(ProblemError):
    status, title = 401, "Unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(ProblemError):
    """The caller's role may never do this, whatever the ticket: saying so reveals nothing about any ticket."""

    status, title = 403, "Forbidden"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, type="urn:hostdesk:problem:role-forbidden")


class NotFound(ProblemError):
    status, title = 404, "Not found"


class Conflict(ProblemError):
    status, title = 409, "Conflict"


class PayloadTooLarge(ProblemError):
    status, title = 413, "Payload too large"


class TooManyRequests(ProblemError):
    status, title = 429, "Too many requests"

    def __init__(self, detail: str, *, retry_after_seconds: float) -> None:
        super().__init__(detail, type="urn:hostdesk:problem:rate-limited")
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after_seconds)))}


class Unavailable(ProblemError):
    status, title = 503, "Service unavailable"

    def __init__(self, detail: str, *, retry_after: int = 2, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.headers = {"Retry-After": str(retry_after)}


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(mode="json", by_alias=True, exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _field_name(location: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts)


async def _on_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(error.problem(instance=request.url.path), error.headers)


async def _on_invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    params = tuple(InvalidParam(name=_field_name(tuple(e["loc"])), reason=e["msg"]) for e in error.errors())
    names = ", ".join(sorted({p.name for p in params}))
    problem = Problem(
        title="Invalid request",
        status=422,
        detail=f"These fields are invalid: {names}.",
        instance=request.url.path,
        invalid_params=params,
    )
    return problem_response(problem)


async def _on_http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400 and isinstance(error.__cause__, ValueError | RecursionError):
        # FastAPI's "error parsing the body": the body is JSON text whose values cannot be read.
        return problem_response(_unreadable_body(request, error.__cause__))
    problem = Problem(title=str(error.detail), status=error.status_code, instance=request.url.path)
    return problem_response(problem, dict(error.headers) if error.headers else None)


def _unreadable_body(request: Request, cause: BaseException) -> Problem:
    if isinstance(cause, UnicodeDecodeError):
        reason = "is not UTF-8 text"
    elif isinstance(cause, RecursionError):
        reason = "is nested too deeply"
    else:
        reason = "holds a value that cannot be read (a number of too many digits?)"
    return Problem(
        title="Invalid request",
        status=422,
        detail=f"These fields are invalid: body. The body {reason}.",
        instance=request.url.path,
        invalid_params=(InvalidParam(name="body", reason=f"the JSON body {reason}"),),
    )


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    problem = Problem(title="Internal error", status=500, detail="The error is logged.", instance=request.url.path)
    return problem_response(problem)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_invalid)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)


class BodySizeLimit:
    """Answers 413 before reading a body larger than the limit, announced or streamed.

    A body announced by ``Content-Length`` is refused on its announcement; the server delivers no more than it
    announced. A body streamed without one (``Transfer-Encoding: chunked``) is read here, up to the limit, before
    the app sees any of it: the app (FastAPI) would otherwise turn the refusal raised while it reads into a 400.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, paths: Mapping[str, int] | None = None) -> None:
        """``paths``: the limit of a route other than ``max_bytes`` (an upload's), by its exact path."""
        self.app = app
        self.max_bytes = max_bytes
        self.paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope.get("path", ""), self.max_bytes)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                await self._refuse(scope, receive, send, limit)
                return
            await self.app(scope, receive, send)
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)  # no body at all
            return
        try:
            body = await self._read_within_limit(receive, limit)
        except _ClientLeft:
            return  # nobody to answer, and half a body is no request
        if body is None:
            await self._refuse(scope, receive, send, limit)
            return
        await self.app(scope, _replaying(body, receive), send)

    async def _read_within_limit(self, receive: Receive, limit: int) -> bytes | None:
        """The whole body, or ``None`` once it grows past the limit (the rest is left unread)."""
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _ClientLeft
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        error = PayloadTooLarge(f"The request body is larger than {limit} bytes.", limit_bytes=limit)
        response = problem_response(error.problem(instance=scope.get("path")))
        await response(scope, receive, send)


class _ClientLeft(Exception):
    pass


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands over the body read already, then whatever the connection says next."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
