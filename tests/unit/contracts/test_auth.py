"""Bearer tokens: verified once, remembered, and refused once expired even when remembered."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from fastapi.security import HTTPAuthorizationCredentials
from hostdesk_contracts.base import Role
from hostdesk_contracts.runtime import auth
from hostdesk_contracts.runtime.auth import issue_token, verify_token
from hostdesk_contracts.runtime.problems import Forbidden, Unauthorized

SECRET = "unit-secret-0123456789abcdefghijklmnop"


def test_a_valid_token_names_its_account() -> None:
    token = issue_token(secret=SECRET, account_id="cust-1", tenant="acme", role=Role.CUSTOMER)

    claims = verify_token(token, SECRET)

    assert (claims.sub, claims.tenant, claims.role) == ("cust-1", "acme", Role.CUSTOMER)


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = issue_token(secret="another-secret-0123456789abcdefghijkl", account_id="x", tenant="acme", role=Role.AGENT)

    with pytest.raises(Unauthorized):
        verify_token(token, SECRET)


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token(secret=SECRET, account_id="cust-2", tenant="acme", role=Role.CUSTOMER, ttl_seconds=60)
    verify_token(token, SECRET)
    later = time.time() + 61

    monkeypatch.setattr(auth.time, "time", lambda: later)

    with pytest.raises(Unauthorized):
        verify_token(token, SECRET)


async def test_a_token_claiming_the_system_role_is_refused_by_every_service() -> None:
    token = issue_token(secret=SECRET, account_id="me", tenant="acme", role=Role.SYSTEM)
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(jwt_secret=SECRET)))
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)

    with pytest.raises(Forbidden):
        await auth.current_actor(request, credentials)  # type: ignore[arg-type]
