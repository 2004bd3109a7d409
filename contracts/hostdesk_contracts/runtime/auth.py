"""Bearer tokens: HS256 JWTs naming the account, its tenant and role. No endpoint is ever open.

A token is at most ``MAX_TOKEN_LENGTH`` characters, looked at before anything else: a token with the claims at
their bounds (``hostdesk_contracts.auth``) is well under 1 kB. Whatever is wrong with a token (its size, its
signature, its expiry, a claim out of bounds or not storable text) answers 401, never a 500.
"""

from __future__ import annotations

import functools
import time
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from hostdesk_contracts.auth import Claims
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.runtime.problems import Forbidden, Unauthorized

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 4096


def issue_token(
    *,
    secret: str,
    account_id: str,
    tenant: str,
    role: Role,
    name: str | None = None,
    email: str | None = None,
    ttl_seconds: int = 86_400,
) -> str:
    claims = Claims(
        sub=account_id, tenant=tenant, role=role, name=name, email=email, exp=int(time.time()) + ttl_seconds
    )
    return jwt.encode(claims.model_dump(mode="json", exclude_none=True), secret, algorithm=ALGORITHM)


_INVALID = "The bearer token is missing, expired or not signed by this installation."


def verify_token(token: str, secret: str) -> Claims:
    return _checked(token, secret)[0]


def _checked(token: str, secret: str) -> tuple[Claims, Actor]:
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized(f"The bearer token is longer than {MAX_TOKEN_LENGTH} characters.")
    claims, actor = _verified(token, secret)
    if claims.exp <= time.time():  # it was valid when first seen; it may have expired since
        raise Unauthorized(_INVALID)
    return claims, actor


@functools.lru_cache(maxsize=65_536)
def _verified(token: str, secret: str) -> tuple[Claims, Actor]:
    """The signature check and parsing, done once per token: callers send the same token many times.
    A token that fails is not cached (an exception is never), so nothing invalid is remembered."""
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        claims = Claims.model_validate(payload)
    except ValidationError as error:
        names = ", ".join(sorted({str(each["loc"][0]) for each in error.errors() if each["loc"]}))
        raise Unauthorized(f"The bearer token's claims are not acceptable: {names or 'its claims'}.") from error
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        # ValueError and TypeError: what a library may raise on input it did not foresee is still a bad token.
        raise Unauthorized(_INVALID) from error
    return claims, claims.actor()


_bearer = HTTPBearer(auto_error=False)


async def current_actor(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Actor:
    """The caller, from ``Authorization: Bearer``. The key comes from ``app.state.jwt_secret``.

    ``async`` although it awaits nothing: FastAPI runs a plain ``def`` dependency in a worker thread, a hop
    that costs more than the check itself. The same holds for every dependency of the services.
    """
    if credentials is None:
        raise Unauthorized("This endpoint needs an 'Authorization: Bearer <token>' header.")
    secret: str = request.app.state.jwt_secret
    actor = _checked(credentials.credentials, secret)[1]
    if actor.role is Role.SYSTEM:
        # Only the product itself acts as the system (closing tickets left unanswered): nobody may pass off
        # their requests as the system's, whatever a token says.
        raise Forbidden("Tokens with the role 'system' are refused; only the product acts as the system.")
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]
