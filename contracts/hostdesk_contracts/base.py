"""The base of every public model, and the small value types they share."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# A tenant is the provider organisation a ticket lives in. It is a token of NATS subjects, so it may hold no
# dot, wildcard or space.
TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _valid_tenant(value: str) -> str:
    if not TENANT_PATTERN.fullmatch(value):
        raise ValueError("a tenant is 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit")
    return value


Tenant = Annotated[str, AfterValidator(_valid_tenant)]


class Contract(BaseModel):
    """A public message: frozen once made, and tolerant of fields added by newer publishers."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Role(StrEnum):
    """Who an account is. Providers, resellers, customers and subaccounts request; agents and supervisors
    answer for the organisation they belong to."""

    PROVIDER = "provider"
    RESELLER = "reseller"
    CUSTOMER = "customer"
    SUBACCOUNT = "subaccount"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"  # the product itself, e.g. closing a ticket left unanswered; never a bearer token's role

    @property
    def is_staff(self) -> bool:
        return self in (Role.AGENT, Role.SUPERVISOR)


class Side(StrEnum):
    """Which side of a ticket an actor speaks for."""

    REQUESTER = "requester"
    HANDLER = "handler"


class Status(StrEnum):
    """The canonical statuses. Providers' own labels map onto these."""

    OPEN = "open"
    ANSWERED = "answered"
    CUSTOMER_REPLY = "customer_reply"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Channel(StrEnum):
    WEB = "web"
    EMAIL = "email"
    API = "api"
    ALERT = "alert"


class Rating(StrEnum):
    """How satisfied the requester is with the support, once per resolution."""

    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    UNSATISFIED = "unsatisfied"  # asks for a written complaint


class Visibility(StrEnum):
    """A public post is shown and mailed to the requesting side; an internal note never is."""

    PUBLIC = "public"
    INTERNAL = "internal"


class Actor(Contract):
    """The account a command or an event speaks for, as its bearer token names it."""

    account_id: str
    tenant: Tenant
    role: Role
    display_name: str | None = None
    email: str | None = None
    organisation_id: str | None = Field(
        default=None, description="For staff: the provider or reseller they act for, as the directory says."
    )


class Assignee(Contract):
    """The staff member a ticket is assigned to."""

    account_id: str = Field(min_length=1, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
