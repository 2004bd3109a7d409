"""The bearer token's claims: which account calls, in which tenant, with which role, and how it is displayed.

Every claim is bounded and must be text every service can store and send: an account id (``sub``) of 1 to 200
characters, a display name of at most 200 and an e-mail address of at most 254 (what an assignee holds), none
holding a control character (NUL among them, which PostgreSQL cannot store) or a lone UTF-16 surrogate (which
cannot be encoded as UTF-8, so neither sent on NATS nor stored). A token that breaks any of these is no valid
token: the caller gets a 401, never a 500 later when a command or an event carries the claim.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

from hostdesk_contracts.base import Actor, Contract, Role, Tenant

MAX_ACCOUNT_ID = 200
MAX_NAME = 200
MAX_EMAIL = 254


def _sendable(value: str) -> str:
    """``value``, when it holds no control character and no lone surrogate."""
    for character in value:
        category = unicodedata.category(character)
        if category == "Cc":
            raise ValueError("must not contain control characters")
        if category == "Cs":
            raise ValueError("must not contain lone surrogates")
    return value


Sendable = AfterValidator(_sendable)
AccountId = Annotated[str, Field(min_length=1, max_length=MAX_ACCOUNT_ID), Sendable]
DisplayName = Annotated[str, Field(max_length=MAX_NAME), Sendable]
EmailClaim = Annotated[str, Field(max_length=MAX_EMAIL), Sendable]


class Claims(Contract):
    sub: AccountId
    tenant: Tenant
    role: Role
    name: DisplayName | None = None
    email: EmailClaim | None = None
    exp: int

    def actor(self) -> Actor:
        return Actor(account_id=self.sub, tenant=self.tenant, role=self.role, display_name=self.name, email=self.email)
