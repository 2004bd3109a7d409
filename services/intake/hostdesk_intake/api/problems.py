"""Intake's own problems, beside the shared ones in ``hostdesk_contracts.runtime.problems``."""

from __future__ import annotations

import math
from typing import Any

from hostdesk_contracts.problems import InvalidParam
from hostdesk_contracts.runtime.problems import ProblemError


class IdempotencyKeyReused(ProblemError):
    status, title = 422, "Idempotency-Key reused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, type="urn:hostdesk:problem:idempotency-key-reused")


class InvalidField(ProblemError):
    """A field that is well-formed but not acceptable, found after the request's own validation."""

    status, title = 422, "Invalid request"

    def __init__(self, name: str, reason: str, **extensions: Any) -> None:
        super().__init__(
            f"These fields are invalid: {name}. {reason}",
            invalid_params=(InvalidParam(name=name, reason=reason),),
            **extensions,
        )


class LimitReached(ProblemError):
    """A caller past its limit of opens or replies in a window, over every replica: the quota (``limit`` in
    ``window_seconds``) is named, and ``Retry-After`` says when the next window lets one more through."""

    status, title = 429, "Too many requests"

    def __init__(self, detail: str, *, retry_after_seconds: float, limit: int, window_seconds: int) -> None:
        super().__init__(detail, type="urn:hostdesk:problem:rate-limited", limit=limit, window_seconds=window_seconds)
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after_seconds)))}
