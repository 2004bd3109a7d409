"""Intake's own problems, beside the shared ones in ``hostdesk_contracts.runtime.problems``."""

from __future__ import annotations

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
