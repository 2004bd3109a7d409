"""RFC 9457 problem details: the shape of every error answered over HTTP."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from hostdesk_contracts.base import Contract

PROBLEM_MEDIA_TYPE = "application/problem+json"


class InvalidParam(Contract):
    name: str
    reason: str


class Problem(Contract):
    """Extension members (``current_status``, ``current_version``...) sit beside the standard ones."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    invalid_params: tuple[InvalidParam, ...] | None = Field(default=None, alias="invalid-params")
