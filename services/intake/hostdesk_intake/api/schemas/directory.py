"""The requests of the directory: a control panel keeping its accounts in step, an organisation's staff and
configuration, and API keys.

A body is the record without what the path names (the id) and without what the directory sets (the version).
Each becomes one directory command; the bulk synchronisation one command an account.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from typing import Annotated

from hostdesk_contracts.auth import DisplayName, EmailClaim
from hostdesk_contracts.base import Status
from hostdesk_contracts.directory import (
    CANNED_MAX,
    CATEGORIES_MAX,
    DEPARTMENTS_MAX,
    SERVICES_MAX,
    AccountKind,
    AccountRecord,
    ApiKeyRecord,
    CannedResponse,
    Category,
    Configuration,
    Configure,
    Department,
    DirectoryId,
    HostingService,
    Label,
    Language,
    MailboxProtocol,
    MailboxRecord,
    MailboxSecurity,
    PutAccount,
    PutApiKey,
    PutStaff,
    PutSupportAddress,
    Scope,
    StaffRecord,
    StaffRole,
    SupportAddressRecord,
    default_port,
)
from pydantic import Field, SecretStr, field_validator

from hostdesk_intake.api.schemas.fields import CommandRequest
from hostdesk_intake.domain.commands import Envelope

BULK_MAX = 500
KEY_ID_ALPHABET = string.ascii_lowercase + string.digits


class AccountBody(CommandRequest):
    """An account as the control panel knows it. A new ``parent_id`` moves the account within its provider's tree."""

    kind: AccountKind
    parent_id: DirectoryId | None = None
    display_name: DisplayName
    email: EmailClaim | None = None
    language: Language = Language.EN
    disabled: bool = False
    services: tuple[HostingService, ...] = Field(default=(), max_length=SERVICES_MAX)

    def record(self, account_id: str) -> AccountRecord:
        return AccountRecord(**(self.model_dump(exclude={"id"}) | {"id": account_id}))

    def to_command(self, envelope: Envelope, account_id: str) -> PutAccount:
        return envelope.directory(PutAccount, account=self.record(account_id))


class BulkAccount(AccountBody):
    id: DirectoryId


class BulkAccountsRequest(CommandRequest):
    """Up to 500 accounts at once, in any order: parents named in the request are put before their children."""

    accounts: tuple[BulkAccount, ...] = Field(min_length=1, max_length=BULK_MAX)

    @field_validator("accounts")
    @classmethod
    def _each_once(cls, accounts: tuple[BulkAccount, ...]) -> tuple[BulkAccount, ...]:
        ids = [account.id for account in accounts]
        if twice := sorted({each for each in ids if ids.count(each) > 1}):
            raise ValueError(f"each account once; given more than once: {', '.join(twice[:10])}")
        return accounts


class StaffBody(CommandRequest):
    organisation_id: DirectoryId
    role: StaffRole
    departments: tuple[Label, ...] = Field(default=(), max_length=DEPARTMENTS_MAX)
    display_name: DisplayName
    email: EmailClaim | None = None
    language: Language = Language.EN
    disabled: bool = False

    def to_command(self, envelope: Envelope, staff_id: str) -> PutStaff:
        return envelope.directory(PutStaff, staff=StaffRecord(id=staff_id, **self.model_dump()))


class ConfigurationBody(CommandRequest):
    departments: tuple[Department, ...] = Field(default=(), max_length=DEPARTMENTS_MAX)
    categories: tuple[Category, ...] = Field(default=(), max_length=CATEGORIES_MAX)
    status_labels: dict[Label, Status] = Field(default_factory=dict, max_length=CATEGORIES_MAX)
    canned_responses: tuple[CannedResponse, ...] = Field(default=(), max_length=CANNED_MAX)
    staff_see_own_departments_only: bool = False

    def to_command(self, envelope: Envelope, organisation_id: str) -> Configure:
        configuration = Configuration(organisation_id=organisation_id, **self.model_dump())
        return envelope.directory(Configure, configuration=configuration)


class MailboxBody(CommandRequest):
    """The mailbox the address's mail is delivered to, for intake to poll. ``password`` is sealed by intake before
    anything is sent or kept, and never shown again; left out, the mailbox's current one is kept (same protocol,
    server and user name)."""

    protocol: MailboxProtocol
    host: Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\[\]-]+$")]
    port: int | None = Field(default=None, ge=1, le=65_535, description="The protocol's own port by default.")
    security: MailboxSecurity = MailboxSecurity.TLS
    username: Annotated[str, Field(min_length=1, max_length=254)]
    password: Annotated[SecretStr, Field(min_length=1, max_length=1_000)] | None = None
    folder: Annotated[str, Field(min_length=1, max_length=200)] = "INBOX"
    interval_seconds: int = Field(default=60, ge=10, le=3_600)

    def record(self, password_sealed: str) -> MailboxRecord:
        return MailboxRecord(
            protocol=self.protocol,
            host=self.host,
            port=self.port or default_port(self.protocol, self.security),
            security=self.security,
            username=self.username,
            password_sealed=password_sealed,
            folder=self.folder,
            interval_seconds=self.interval_seconds,
        )


class SupportAddressBody(CommandRequest):
    """A support address of an organisation, the department mail to it lands in, and the mailbox intake polls for
    it (if its mail is delivered to one rather than forwarded to intake's SMTP listener)."""

    organisation_id: DirectoryId
    department: Label | None = None
    retired: bool = False
    mailbox: MailboxBody | None = None

    def to_command(self, envelope: Envelope, address: str, *, mailbox: MailboxRecord | None) -> PutSupportAddress:
        record = SupportAddressRecord(address=address, **self.model_dump(exclude={"mailbox"}), mailbox=mailbox)
        return envelope.directory(PutSupportAddress, support_address=record)


class ApiKeyRequest(CommandRequest):
    account_id: DirectoryId = Field(description="The account the key acts for.")
    label: Label
    scopes: Annotated[tuple[Scope, ...], Field(min_length=1, max_length=len(Scope))]


def new_api_key() -> tuple[str, str]:
    """A new key's id and the whole key, ``hd_<id>_<secret>``: the id is 12 letters and digits, the secret 32
    random bytes. Only the SHA-256 of the whole key is ever stored."""
    key_id = "".join(secrets.choice(KEY_ID_ALPHABET) for _ in range(12))
    return key_id, f"hd_{key_id}_{secrets.token_urlsafe(32)}"


def create_key_command(envelope: Envelope, request: ApiKeyRequest, key_id: str, key: str) -> PutApiKey:
    record = ApiKeyRecord(
        id=key_id,
        account_id=request.account_id,
        label=request.label,
        scopes=tuple(dict.fromkeys(request.scopes)),
        secret_sha256=hashlib.sha256(key.encode()).hexdigest(),
    )
    return envelope.directory(PutApiKey, api_key=record)
