"""Bearer tokens for an account or a staff member: HS256 with the installation's key (``HOSTDESK_JWT_SECRET``),
made by the shared runtime's ``issue_token``, as every issuer sharing the key makes them.

The token names its subject and its lifetime only (``sub``, ``iat``, ``exp``): who the subject is (its tenant,
its role, its organisation) is the directory's to say, looked up by the services on every request.
"""

from __future__ import annotations

from hostdesk_contracts.runtime.auth import ALGORITHM, issue_token

DEFAULT_TTL_SECONDS = 86_400
MAX_TTL_SECONDS = 366 * 86_400
__all__ = ["ALGORITHM", "DEFAULT_TTL_SECONDS", "MAX_TTL_SECONDS", "mint"]


def mint(subject: str, *, secret: str, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
    return issue_token(secret=secret, account_id=subject, ttl_seconds=ttl_seconds)
