"""Bearer tokens: verified once, remembered, and refused once expired even when remembered."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from types import SimpleNamespace

import jwt
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


def signed(**claims: object) -> str:
    """A token signed with the installation's key, whatever its claims: what a careless issuer might sign."""
    return jwt.encode({"sub": "cust-1", "tenant": "acme", "role": "customer", "exp": FAR} | claims, SECRET)


FAR = int(time.time()) + 86_400


@pytest.mark.parametrize(
    ("claims", "named"),
    [
        ({"sub": "\ud800"}, "sub"),
        ({"name": "Ada \udfff"}, "name"),
        ({"sub": "cust\x001"}, "sub"),
        ({"email": "ada@example.net\r\nBcc: all@example.net"}, "email"),
        ({"sub": ""}, "sub"),
        ({"sub": "c" * 201}, "sub"),
        ({"name": "n" * 201}, "name"),
        ({"email": "e" * 255}, "email"),
        ({"tenant": "Acme.Corp"}, "tenant"),
        ({"tenant": ""}, "tenant"),
    ],
)
def test_a_signed_token_with_a_claim_out_of_bounds_is_refused_naming_it(claims: dict[str, object], named: str) -> None:
    with pytest.raises(Unauthorized) as refused:
        verify_token(signed(**claims), SECRET)

    assert named in refused.value.detail


def test_claims_at_their_bounds_are_accepted() -> None:
    token = signed(sub="c" * 200, name="Ada Lovelace, née Byron " + "n" * 176, email="e" * 254)

    claims = verify_token(token, SECRET)

    assert (len(claims.sub), len(claims.name or ""), len(claims.email or "")) == (200, 200, 254)


def test_a_token_longer_than_the_bound_is_refused_before_it_is_read() -> None:
    huge = signed(comment="x" * auth.MAX_TOKEN_LENGTH)

    with pytest.raises(Unauthorized) as refused:
        verify_token(huge, SECRET)

    assert "longer than" in refused.value.detail


def test_a_token_whose_payload_is_not_an_object_is_refused() -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(b"[1, 2]").rstrip(b"=")
    signing_input = header + b"." + payload
    signature = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest())

    with pytest.raises(Unauthorized):
        verify_token((signing_input + b"." + signature.rstrip(b"=")).decode(), SECRET)
