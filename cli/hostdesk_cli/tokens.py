"""Bearer tokens for an account or a staff member: HS256 with the installation's key (``HOSTDESK_JWT_SECRET``).

The token names its subject and its lifetime only (``sub``, ``iat``, ``exp``): who the subject is (its tenant,
its role, its organisation) is the directory's to say, looked up by the services on every request.
"""

from __future__ import annotations

import time

import jwt

ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 86_400
MAX_TTL_SECONDS = 366 * 86_400


def mint(subject: str, *, secret: str, ttl_seconds: int = DEFAULT_TTL_SECONDS, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {"sub": subject, "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
