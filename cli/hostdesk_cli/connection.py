"""Where the installation is, and who the command line is in it: the connection settings of every command.

Each setting is an option of ``hostdesk`` itself (``hostdesk --nats-url ... accounts list``) and an environment
variable: the command line's own name first (``HOSTDESK_NATS_URL``), then the name the services read (the
README's configuration table: ``NATS_URL``, ``DATABASE_URL``, ``HOSTDESK_SUBJECT_ROOT``), so that an operator
who has the services' environment loaded needs nothing else. NATS is reached as its ``admin`` user
(``hostdesk_contracts.runtime.nats_auth``): the command line publishes directory commands, reads outcomes and
the directory bucket, which no service user may do all of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hostdesk_contracts.base import TENANT_PATTERN, Actor, Role
from hostdesk_contracts.runtime.settings import LOCAL_DATABASE_URL, LOCAL_NATS_URL
from hostdesk_contracts.subjects import Subjects

DEFAULT_WAIT_SECONDS = 10.0
ROOT_PATTERN = re.compile(r"^[a-z0-9_]+$")  # as ``CommonSettings.subject_root``

# Each setting's environment variables, the command line's own first, then the services' (if they have one).
NATS_URL_ENV = ["HOSTDESK_NATS_URL", "NATS_URL"]
NATS_USER_ENV = ["HOSTDESK_NATS_USER"]
NATS_PASSWORD_ENV = ["HOSTDESK_NATS_PASSWORD"]
ROOT_ENV = ["HOSTDESK_ROOT", "HOSTDESK_SUBJECT_ROOT"]
TENANT_ENV = ["HOSTDESK_TENANT"]
JWT_SECRET_ENV = ["HOSTDESK_JWT_SECRET"]
DATABASE_URL_ENV = ["HOSTDESK_DATABASE_URL", "DATABASE_URL"]
JWT_SECRET_MIN = 32  # as ``CommonSettings.jwt_secret``


class SettingError(ValueError):
    """A connection setting the command needs is missing or malformed; the message names the setting."""


@dataclass(frozen=True)
class Connection:
    nats_url: str = LOCAL_NATS_URL
    nats_user: str = "admin"
    nats_password: str = ""
    root: str = "tickets"
    tenant: str | None = None
    jwt_secret: str | None = None
    database_url: str = LOCAL_DATABASE_URL
    wait_seconds: float = DEFAULT_WAIT_SECONDS

    def __post_init__(self) -> None:
        if not ROOT_PATTERN.fullmatch(self.root):
            raise SettingError(f"the subject root (--root, {ROOT_ENV[0]}) is lower-case letters, digits or '_'")
        if self.tenant is not None and not TENANT_PATTERN.fullmatch(self.tenant):
            raise SettingError(
                f"the tenant (--tenant, {TENANT_ENV[0]}) is 1-63 lower-case letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        if self.wait_seconds <= 0:
            raise SettingError("the wait (--wait) is a number of seconds above 0")

    @property
    def subjects(self) -> Subjects:
        return Subjects(root=self.root)

    def credentials(self) -> dict[str, str]:
        """The user and password to log in with, when a password is set; else the URL's own (or none)."""
        if not self.nats_password:
            return {}
        return {"user": self.nats_user, "password": self.nats_password}

    def required_tenant(self) -> str:
        if self.tenant is None:
            raise SettingError(f"no tenant: give --tenant or set {TENANT_ENV[0]} (the provider's id)")
        return self.tenant

    def provider(self, tenant: str | None = None) -> Actor:
        """The command line acts as the tenant's provider account, the one actor allowed everything in it."""
        tenant = tenant or self.required_tenant()
        return Actor(account_id=tenant, tenant=tenant, role=Role.PROVIDER)

    def required_jwt_secret(self) -> str:
        if self.jwt_secret is None or len(self.jwt_secret) < JWT_SECRET_MIN:
            raise SettingError(
                f"tokens need the installation's key: give --jwt-secret or set {JWT_SECRET_ENV[0]} "
                f"({JWT_SECRET_MIN} characters or more)"
            )
        return self.jwt_secret
