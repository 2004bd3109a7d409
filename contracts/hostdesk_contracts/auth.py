"""The bearer token's claims (which account calls), and the bounds of the text that names and addresses people.

A token names its caller by ``sub``, a directory id (``hostdesk_contracts.directory``: 1-100 letters, digits,
``-`` or ``_``, so no ``.``, ``*``, ``>`` or space); everything else about the caller comes from the directory.
A token whose ``sub`` is no such id is no valid token: the caller gets a 401, never a 500.

Display names and e-mail addresses (the directory's records, an assignee) are bounded, at most 200 and 254
characters, and must be text every service can store and send: no control character (NUL among them, which
PostgreSQL cannot store) and no lone UTF-16 surrogate (which cannot be encoded as UTF-8).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

from hostdesk_contracts.base import Contract

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


def _directory_id(value: str) -> str:
    """``value``, when it is a directory id. (Imported here: the directory imports this module's text bounds.)"""
    from hostdesk_contracts.directory import ID_PATTERN, ID_RULE

    if not ID_PATTERN.fullmatch(value):
        raise ValueError(f"must be a directory id: {ID_RULE}")
    return value


Sendable = AfterValidator(_sendable)
AccountId = Annotated[str, Field(min_length=1, max_length=MAX_ACCOUNT_ID), Sendable]
DisplayName = Annotated[str, Field(max_length=MAX_NAME), Sendable]
EmailClaim = Annotated[str, Field(max_length=MAX_EMAIL), Sendable]
Subject = Annotated[str, AfterValidator(_directory_id)]


class Claims(Contract):
    """What the services read of a bearer token: whom it names (``sub``, a directory id) and how long it holds.

    The token names the account; the directory decides the rest (tenant, role, name, address, organisation). A
    ``tenant``, ``role``, ``name`` or ``email`` claim that an issuer still sends is ignored, never trusted: a
    token cannot make its caller the system, another tenant's or staff.
    """

    sub: Subject
    exp: int
    nbf: int | None = None
    iat: int | None = None
