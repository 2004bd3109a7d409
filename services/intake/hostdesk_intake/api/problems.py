"""Intake's own problems, beside the shared ones in ``hostdesk_contracts.runtime.problems``."""

from __future__ import annotations

import math

from hostdesk_contracts.runtime.problems import ProblemError


class TooManyRequests(ProblemError):
    status, title = 429, "Too many requests"

    def __init__(self, detail: str, *, retry_after_seconds: float) -> None:
        super().__init__(detail, type="urn:hostdesk:problem:rate-limited")
        self.headers = {"Retry-After": str(max(1, math.ceil(retry_after_seconds)))}


class IdempotencyKeyReused(ProblemError):
    status, title = 422, "Idempotency-Key reused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, type="urn:hostdesk:problem:idempotency-key-reused")
