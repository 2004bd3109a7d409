"""The directory: who is who in a provider's tree, and how each organisation runs its support (SPEC section 1).

Records
    ``AccountRecord``   a ``provider``, ``reseller``, ``customer`` or ``subaccount`` (an FTP or mailbox owner),
                        with its parent, display name, notification address, language and hosting services.
    ``StaffRecord``     a support account of a provider's or a reseller's organisation: ``agent`` or
                        ``supervisor``, member of some of the organisation's departments.
    ``Configuration``   an organisation's departments, categories, status labels, canned responses and
                        settings. Every account that handles tickets (provider, reseller, customer) has one.
    ``ApiKeyRecord``    a key a system (monitoring, billing, the control panel) calls with, with its scopes.
    ``SupportAddressRecord``  an address an organisation receives support mail at, and the department mail to it
                        lands in. An address belongs to the organisation that first put it, for ever (retired, it
                        takes no more mail, and no other organisation takes it over), so no organisation can
                        divert another's mail.

Ids are the control panel's own: 1-100 letters, digits, ``-`` or ``_``, starting with a letter or a digit, so
that no id can reach into a NATS subject or a key of the directory bucket (no ``.``, ``*``, ``>`` or space).
Accounts and staff share one id space within an installation: a bearer token's subject names exactly one.

A record carries its parent, never its ancestors: the tree is walked where it is read (it is at most four
deep), so that moving a reseller with its thousands of customers changes one record. The tenant of a record is
the id of the provider at the top of its tree; commands and events travel on that tenant's subjects.

Every change is a command the tickets service decides (``DirectoryCommand``), an event in its log, and a
public event on the events stream carrying the whole new record (``DirectoryEvent``), so a subscriber needs
no other source. The latest record of each id is kept in the key-value bucket ``<ROOT>_DIRECTORY`` under
``record_key``: that is where every service looks callers up.

A record's ``version`` is the directory's: what a command sends there is ignored, and the record in an event
and in the bucket carries the version the change gave it.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID, uuid5

from pydantic import AfterValidator, AwareDatetime, Field, TypeAdapter

from hostdesk_contracts.auth import DisplayName, EmailClaim
from hostdesk_contracts.base import Actor, Contract, Status, Tenant

DIRECTORY_ID_NAMESPACE = UUID("2f0c8b6e-7a51-4d3e-b1c9-6e5a4f2d8c70")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
ID_RULE = "1-100 letters, digits, '-' or '_', starting with a letter or digit"


def _valid_id(value: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise ValueError(f"an id is {ID_RULE}")
    return value


DirectoryId = Annotated[str, AfterValidator(_valid_id)]
Label = Annotated[str, Field(min_length=1, max_length=100)]  # a department, a category, a status label
ServiceLabel = Annotated[str, Field(min_length=1, max_length=200)]
DEPARTMENTS_MAX = 50
CATEGORIES_MAX = 200
SERVICES_MAX = 500
CANNED_MAX = 500
CANNED_BODY_MAX = 20_000


class AccountKind(StrEnum):
    PROVIDER = "provider"
    RESELLER = "reseller"
    CUSTOMER = "customer"
    SUBACCOUNT = "subaccount"

    @property
    def parent_kinds(self) -> frozenset[AccountKind]:
        """The kinds an account of this kind may hang under (a provider under none)."""
        return _PARENT_KINDS[self]

    @property
    def handles(self) -> bool:
        """Whether tickets may be addressed to accounts of this kind (every kind but a subaccount)."""
        return self is not AccountKind.SUBACCOUNT

    @property
    def has_staff(self) -> bool:
        """Whether the kind has an organisation with support staff: providers and resellers."""
        return self in (AccountKind.PROVIDER, AccountKind.RESELLER)


_PARENT_KINDS: dict[AccountKind, frozenset[AccountKind]] = {
    AccountKind.PROVIDER: frozenset(),
    AccountKind.RESELLER: frozenset({AccountKind.PROVIDER}),
    AccountKind.CUSTOMER: frozenset({AccountKind.PROVIDER, AccountKind.RESELLER}),
    AccountKind.SUBACCOUNT: frozenset({AccountKind.CUSTOMER}),
}


class StaffRole(StrEnum):
    AGENT = "agent"  # answers tickets
    SUPERVISOR = "supervisor"  # also changes the organisation's configuration


class Language(StrEnum):
    EN = "en"
    FR = "fr"


class Scope(StrEnum):
    """What an API key may do, on behalf of the account it belongs to."""

    TICKETS_READ = "tickets:read"  # billing, CRM: read tickets
    TICKETS_WRITE = "tickets:write"  # monitoring, the control panel: open tickets and post to them
    TICKETS_IMPORT = "tickets:import"  # a move from the previous helpdesk: import its tickets with their history
    DIRECTORY_READ = "directory:read"
    DIRECTORY_WRITE = "directory:write"  # the control panel: keep its accounts in step


class HostingService(Contract):
    """One of an account's hosting services, as the control panel names it: ``vps-1042``, "VPS Prague"."""

    id: DirectoryId
    label: ServiceLabel


class AccountRecord(Contract):
    id: DirectoryId
    kind: AccountKind
    parent_id: DirectoryId | None = Field(default=None, description="None for a provider only.")
    display_name: DisplayName
    email: EmailClaim | None = Field(default=None, description="Where the account's notifications go.")
    language: Language = Language.EN
    disabled: bool = Field(default=False, description="A disabled account's tokens and keys are refused.")
    services: tuple[HostingService, ...] = Field(default=(), max_length=SERVICES_MAX)
    version: int = Field(default=1, ge=1)


class StaffRecord(Contract):
    id: DirectoryId
    organisation_id: DirectoryId = Field(description="The provider or reseller the staff member works for.")
    role: StaffRole
    departments: tuple[Label, ...] = Field(default=(), max_length=DEPARTMENTS_MAX)
    display_name: DisplayName
    email: EmailClaim | None = None
    language: Language = Language.EN
    disabled: bool = False
    version: int = Field(default=1, ge=1)


class Department(Contract):
    name: Label
    retired: bool = Field(
        default=False,
        description="A retired department takes no new ticket and no transfer; its tickets stay and can be "
        "transferred out. Departments are retired, never deleted, so no ticket is ever left in none.",
    )
    round_robin: bool = Field(default=False, description="New tickets go to its next available agent, in turn.")


class Category(Contract):
    name: Label
    department: Label | None = Field(default=None, description="The department its tickets go to.")
    assignee_id: DirectoryId | None = Field(default=None, description="The staff member its tickets go to.")
    for_subaccounts: bool = Field(default=True, description="ISPmanager: some are not available for FTP users.")


class CannedResponse(Contract):
    name: Label
    body: Annotated[str, Field(min_length=1, max_length=CANNED_BODY_MAX)]


class Configuration(Contract):
    """How one organisation (a provider, a reseller, or a customer answering its subaccounts) runs support."""

    organisation_id: DirectoryId
    departments: tuple[Department, ...] = Field(default=(), max_length=DEPARTMENTS_MAX)
    categories: tuple[Category, ...] = Field(default=(), max_length=CATEGORIES_MAX)
    status_labels: dict[Label, Status] = Field(default_factory=dict, max_length=CATEGORIES_MAX)
    canned_responses: tuple[CannedResponse, ...] = Field(default=(), max_length=CANNED_MAX)
    staff_see_own_departments_only: bool = Field(
        default=False, description="Agents see only the tickets of their departments (supervisors see all)."
    )
    version: int = Field(default=1, ge=1)


class ApiKeyRecord(Contract):
    """A key is ``hd_<id>_<secret>``; only the SHA-256 of the whole key is ever stored or sent."""

    id: DirectoryId
    account_id: DirectoryId = Field(description="The account the key acts for.")
    label: Label
    scopes: tuple[Scope, ...] = Field(min_length=1)
    secret_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    revoked: bool = False
    version: int = Field(default=1, ge=1)


def _mail_address(value: str) -> str:
    value = value.strip().lower()
    if not MAIL_ADDRESS_PATTERN.fullmatch(value):
        raise ValueError("an e-mail address is local-part@domain, in ASCII, without spaces")
    return value


MAIL_ADDRESS_PATTERN = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$")
MailAddress = Annotated[str, Field(max_length=254), AfterValidator(_mail_address)]


class MailboxProtocol(StrEnum):
    IMAP = "imap"
    POP3 = "pop3"


class MailboxSecurity(StrEnum):
    TLS = "tls"  # TLS from the first byte (IMAPS 993, POP3S 995)
    STARTTLS = "starttls"  # plain, then STARTTLS (IMAP 143, POP3 110) before the password is sent
    NONE = "none"  # no TLS at all: a mailbox server on the same machine or network only


def default_port(protocol: MailboxProtocol, security: MailboxSecurity) -> int:
    """The protocol's own port: 993 or 143 for IMAP, 995 or 110 for POP3 (TLS from the first byte, or not)."""
    tls = security is MailboxSecurity.TLS
    if protocol is MailboxProtocol.IMAP:
        return 993 if tls else 143
    return 995 if tls else 110


class MailboxRecord(Contract):
    """A mailbox the support address's mail is delivered to, which intake polls (H-Sphere's POP3 support mailbox):
    each message is stored, then deleted from the mailbox.

    The password is sealed by intake with its own keys (``INTAKE_MAILBOX_KEYS``, Fernet: AES-128 and HMAC-SHA256)
    before the command is sent: the directory's log, its bucket and its public events carry the sealed token, never
    the password, and only intake can open it."""

    protocol: MailboxProtocol
    host: Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\[\]-]+$")]
    port: int = Field(ge=1, le=65_535)
    security: MailboxSecurity = MailboxSecurity.TLS
    username: Annotated[str, Field(min_length=1, max_length=254)]
    password_sealed: Annotated[str, Field(min_length=1, max_length=4_096)]
    folder: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        default="INBOX", description="The IMAP folder polled (POP3 has only the one)."
    )
    interval_seconds: int = Field(default=60, ge=10, le=3_600, description="How often the mailbox is polled.")

    def same_login(self, other: MailboxRecord) -> bool:
        """Whether ``other`` logs in where this does, as the same user (so its password may be kept)."""
        return (self.protocol, self.host.lower(), self.username) == (other.protocol, other.host.lower(), other.username)


class SupportAddressRecord(Contract):
    """An address an organisation receives support mail at: its MTA forwards it to intake's SMTP listener, or
    delivers it to ``mailbox``, which intake polls. Mail to it opens tickets addressed to the organisation, in
    ``department`` when one is named."""

    address: MailAddress = Field(description="Lower-cased; the record's id.")
    organisation_id: DirectoryId = Field(description="The organisation that handles what comes in.")
    department: Label | None = Field(default=None, description="The department its tickets land in.")
    retired: bool = Field(
        default=False, description="Takes no more mail (kept in quarantine, with the reason); stays the organisation's."
    )
    mailbox: MailboxRecord | None = Field(default=None, description="The mailbox intake polls for it, if any.")
    version: int = Field(default=1, ge=1)


def support_address_key(address: str) -> str:
    """The directory key of an address: its SHA-256 (an address may hold characters no key may)."""
    return f"{SUPPORT_ADDRESS_KIND}.{hashlib.sha256(address.strip().lower().encode()).hexdigest()[:40]}"


SUPPORT_ADDRESS_KIND = "support_address"
Record = AccountRecord | StaffRecord | Configuration | ApiKeyRecord | SupportAddressRecord


def record_key(record: Record | type[Record], record_id: str | None = None) -> str:
    """The record's key in the directory bucket: ``principal.<id>`` for accounts and staff (one id space),
    ``configuration.<organisation id>``, ``api_key.<id>``, ``support_address.<digest of the address>``."""
    record_class = record if isinstance(record, type) else type(record)
    if record_class is SupportAddressRecord:
        if record_id is None:
            assert isinstance(record, SupportAddressRecord)
            record_id = record.address
        return support_address_key(record_id)
    if record_id is None:
        assert not isinstance(record, type)
        assert not isinstance(record, SupportAddressRecord)
        record_id = record.organisation_id if isinstance(record, Configuration) else record.id
    prefix: dict[type[Contract], str] = {
        AccountRecord: "principal",
        StaffRecord: "principal",
        Configuration: "configuration",
    }
    return f"{prefix.get(record_class, 'api_key')}.{record_id}"


def aggregate_id_for(key: str) -> UUID:
    """The id of the tickets service's aggregate that owns the record under ``key``."""
    return uuid5(DIRECTORY_ID_NAMESPACE, key)


# -- commands ----------------------------------------------------------------------------------------------


class DirectoryCommand(Contract):
    """A change to one record. ``expected_version`` refuses it unless the record is at that version (None:
    whatever it is). Putting a record the same as the current one records nothing and is committed."""

    # A key of the outcomes bucket and a header value: letters, digits, '-', '_' and '=' only.
    command_id: str = Field(pattern=r"^[A-Za-z0-9_=-]{1,200}$")
    actor: Actor
    issued_at: AwareDatetime
    expected_version: int | None = Field(default=None, ge=1)

    @property
    def key(self) -> str:
        raise NotImplementedError


class PutAccount(DirectoryCommand):
    """Create or replace an account (the control panel's synchronisation: idempotent by content). A new
    parent moves the account within its tenant: see the README's directory section."""

    type: Literal["directory.put_account.v1"] = "directory.put_account.v1"
    account: AccountRecord

    @property
    def key(self) -> str:
        return record_key(self.account)


class PutStaff(DirectoryCommand):
    type: Literal["directory.put_staff.v1"] = "directory.put_staff.v1"
    staff: StaffRecord

    @property
    def key(self) -> str:
        return record_key(self.staff)


class Configure(DirectoryCommand):
    """Replace an organisation's configuration; only its supervisors (and its own account) may."""

    type: Literal["directory.configure.v1"] = "directory.configure.v1"
    configuration: Configuration

    @property
    def key(self) -> str:
        return record_key(self.configuration)


class PutApiKey(DirectoryCommand):
    """Create a key (the caller made the secret and sends its hash) or revoke one (``revoked``)."""

    type: Literal["directory.put_api_key.v1"] = "directory.put_api_key.v1"
    api_key: ApiKeyRecord

    @property
    def key(self) -> str:
        return record_key(self.api_key)


class PutSupportAddress(DirectoryCommand):
    """Create or change a support address of an organisation; only its supervisors (and its own account) may."""

    type: Literal["directory.put_support_address.v1"] = "directory.put_support_address.v1"
    support_address: SupportAddressRecord

    @property
    def key(self) -> str:
        return record_key(self.support_address)


AnyDirectoryCommand = PutAccount | PutStaff | Configure | PutApiKey | PutSupportAddress
DIRECTORY_COMMAND_TYPES: tuple[type[DirectoryCommand], ...] = (
    PutAccount,
    PutStaff,
    Configure,
    PutApiKey,
    PutSupportAddress,
)
DIRECTORY_COMMAND_ADAPTER: TypeAdapter[AnyDirectoryCommand] = TypeAdapter(
    Annotated[AnyDirectoryCommand, Field(discriminator="type")]
)


def directory_command_name(command: type[DirectoryCommand] | DirectoryCommand) -> str:
    """``directory.put_account.v1`` -> ``put_account``: the last token of the command's subject."""
    command_class = command if isinstance(command, type) else type(command)
    token: str = command_class.model_fields["type"].default
    return token.removeprefix("directory.").removesuffix(".v1")


# -- events ------------------------------------------------------------------------------------------------


class DirectoryEvent(Contract):
    """A record changed. ``event_id`` is ``"<record key>:<version>"``; ``version`` is the record's."""

    event_id: str
    key: str
    tenant: Tenant
    version: int = Field(ge=1)
    occurred_at: AwareDatetime
    actor: Actor
    command_id: str | None = None


class AccountChanged(DirectoryEvent):
    type: Literal["directory.account_changed.v1"] = "directory.account_changed.v1"
    account: AccountRecord
    from_parent_id: str | None = Field(default=None, description="Set when the account moved to another parent.")


class StaffChanged(DirectoryEvent):
    type: Literal["directory.staff_changed.v1"] = "directory.staff_changed.v1"
    staff: StaffRecord


class ConfigurationChanged(DirectoryEvent):
    type: Literal["directory.configuration_changed.v1"] = "directory.configuration_changed.v1"
    configuration: Configuration


class ApiKeyChanged(DirectoryEvent):
    type: Literal["directory.api_key_changed.v1"] = "directory.api_key_changed.v1"
    api_key: ApiKeyRecord


class SupportAddressChanged(DirectoryEvent):
    type: Literal["directory.support_address_changed.v1"] = "directory.support_address_changed.v1"
    support_address: SupportAddressRecord


AnyDirectoryEvent = AccountChanged | StaffChanged | ConfigurationChanged | ApiKeyChanged | SupportAddressChanged
DIRECTORY_EVENT_TYPES: tuple[type[DirectoryEvent], ...] = (
    AccountChanged,
    StaffChanged,
    ConfigurationChanged,
    ApiKeyChanged,
    SupportAddressChanged,
)
DIRECTORY_EVENT_ADAPTER: TypeAdapter[AnyDirectoryEvent] = TypeAdapter(
    Annotated[AnyDirectoryEvent, Field(discriminator="type")]
)


def directory_event_name(event: type[DirectoryEvent] | DirectoryEvent) -> str:
    """``directory.account_changed.v1``: the subject tokens after the tenant (``<root>.events.<tenant>.``)."""
    event_class = event if isinstance(event, type) else type(event)
    token: str = event_class.model_fields["type"].default
    return token


def record_of(event: AnyDirectoryEvent) -> Record:
    if isinstance(event, AccountChanged):
        return event.account
    if isinstance(event, StaffChanged):
        return event.staff
    if isinstance(event, ConfigurationChanged):
        return event.configuration
    if isinstance(event, SupportAddressChanged):
        return event.support_address
    return event.api_key
