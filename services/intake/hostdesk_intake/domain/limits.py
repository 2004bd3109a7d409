"""How many tickets a caller may open, and how many replies it may post, in a window of time. Pure rules.

A caller with a token is counted as its account; a caller with an API key as that key, apart from its account:
a monitoring system opens many tickets through its key, and the account's own people are not refused for it,
nor is the key for them. Each count is kept per fixed window, the hour for opens and the minute for replies,
windows that start on the hour (the minute) of the Unix clock: every replica knows the same windows without
asking the others, and shares only the counts (``adapters.rate_counters``). A window lets ``limit`` requests
through; the next goes through once the window ends, which is what ``Retry-After`` says. Never more than the
limit within one window; up to twice the limit around the end of one, its last moments and the next one's first.

Replicas whose clocks disagree disagree on when a window ends by as much: a few milliseconds under NTP.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from hostdesk_contracts.base import Actor

HOUR, MINUTE = 3_600, 60


class Action(StrEnum):
    """What is counted: opening a ticket, posting a reply."""

    OPEN = "open"
    REPLY = "reply"


WINDOW_SECONDS = {Action.OPEN: HOUR, Action.REPLY: MINUTE}


@dataclass(frozen=True)
class Counted:
    """Whose count a request goes to: an account, or an API key. ``name`` is a digest, a safe key token."""

    kind: Literal["account", "key"]
    name: str

    @classmethod
    def caller(cls, actor: Actor, *, key_id: str | None) -> Counted:
        """The account of a token's caller (its tenant and id), or the key of a key's caller (unique in an
        installation). Hashed as JSON arrays, so no two callers share a name, whatever their ids hold."""
        if key_id is not None:
            return cls(kind="key", name=_digest(["api_key", key_id]))
        return cls(kind="account", name=_digest([actor.tenant, actor.account_id]))


@dataclass(frozen=True)
class Quota:
    """``limit`` requests of ``action`` in each window of ``window_seconds``."""

    action: Action
    limit: int
    window_seconds: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_seconds < 1:
            raise ValueError("a quota lets at least one request through in a window of at least a second")


@dataclass(frozen=True)
class Quotas:
    """The limits of an installation (intake's settings): opens an hour and replies a minute, per account and per
    API key."""

    opens_per_account: int
    opens_per_key: int
    replies_per_account: int
    replies_per_key: int

    def of(self, action: Action, counted: Counted) -> Quota:
        by_key = counted.kind == "key"
        if action is Action.OPEN:
            limit = self.opens_per_key if by_key else self.opens_per_account
        else:
            limit = self.replies_per_key if by_key else self.replies_per_account
        return Quota(action=action, limit=limit, window_seconds=WINDOW_SECONDS[action])


@dataclass(frozen=True)
class Window:
    """One window of a quota: its number since the Unix epoch, and when it ends (seconds since the epoch)."""

    number: int
    ends_at: float

    @classmethod
    def at(cls, now: float, *, seconds: int) -> Window:
        number = math.floor(now / seconds)
        return cls(number=number, ends_at=float((number + 1) * seconds))

    def seconds_left(self, now: float) -> float:
        """Until the next window, whose first request goes through."""
        return max(0.0, self.ends_at - now)


def counter_key(quota: Quota, counted: Counted, window: Window) -> str:
    """The key of one count in the rates bucket: ``<action>.<window seconds>.<account|key>.<digest>.<window>``."""
    return f"{quota.action.value}.{quota.window_seconds}.{counted.kind}.{counted.name}.{window.number}"


def _digest(parts: list[str]) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]
