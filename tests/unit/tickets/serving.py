"""The callers the tickets service's HTTP API knows in these tests: each in the in-memory directory it reads."""

from __future__ import annotations

from hostdesk_contracts.base import Actor

from tests.support import Callers

SECRET = "unit-test-secret-0123456789abcdefghijkl"
CALLERS = Callers(SECRET)  # the directory the apps of these tests read


def bearer(actor: Actor) -> dict[str, str]:
    return CALLERS.bearer(actor)
