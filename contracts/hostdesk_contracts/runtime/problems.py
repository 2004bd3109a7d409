"""One translation point from errors to RFC 9457 problem+json responses, for every service."""

from __future__ import annotations

import logging
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
    problem = Problem(title=str(error.detail), status=error.status_code, instance=request.url.path)
    return problem_response(problem, dict(error.headers) if error.headers else None)


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
    """Answers 413 before reading a body larger than the limit, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLarge(f"The request body is larger than {self.max_bytes} bytes.")
        response = problem_response(error.problem(instance=scope.get("path")))
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
