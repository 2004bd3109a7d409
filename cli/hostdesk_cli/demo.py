"""The demo directory: a provider's whole tree, its staff and its configuration, as data, and how it is put.

Every record is put by its content, so running the demo again sends the same commands over unchanged records and
changes nothing. Ids start with the tenant, since accounts and staff share one id space per installation: two
demo tenants side by side never meet. The layers go in order (a parent before its children, the configuration
before the staff in its departments); the records of one layer are sent together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from hostdesk_contracts.base import Actor, Status
from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    CannedResponse,
    Category,
    Configuration,
    Configure,
    Department,
    HostingService,
    Language,
    PutAccount,
    PutStaff,
    PutSupportAddress,
    Record,
    StaffRecord,
    StaffRole,
    SupportAddressRecord,
    record_key,
)

from hostdesk_cli.changes import apply, said
from hostdesk_cli.directory import Directory
from hostdesk_cli.ids import PLACEHOLDER, now

TECHNICAL_SUPPORT = "Technical Support"
BILLING = "Billing"


@dataclass(frozen=True)
class DemoToken:
    env_key: str  # its line in ``--env``: CUSTOMER_TOKEN=...
    subject: str  # the account or staff member it names
    caller: str  # what kind of caller it is, for the table


@dataclass(frozen=True)
class DemoPlan:
    tenant: str
    layers: tuple[tuple[Record, ...], ...]
    tokens: tuple[DemoToken, ...]

    @property
    def records(self) -> list[Record]:
        return [record for layer in self.layers for record in layer]


def account_record(
    record_id: str,
    kind: AccountKind,
    parent: str | None,
    name: str,
    email: str,
    *services: tuple[str, str],
    language: Language = Language.EN,
) -> AccountRecord:
    return AccountRecord(
        id=record_id,
        kind=kind,
        parent_id=parent,
        display_name=name,
        email=email,
        language=language,
        services=tuple(HostingService(id=service_id, label=label) for service_id, label in services),
    )


def staff_record(record_id: str, organisation: str, role: StaffRole, name: str, *departments: str) -> StaffRecord:
    local = record_id.removeprefix(f"{organisation}-")
    return StaffRecord(
        id=record_id,
        organisation_id=organisation,
        role=role,
        departments=departments,
        display_name=name,
        email=f"{local}@{organisation}.example",
    )


def provider_configuration(tenant: str) -> Configuration:
    return Configuration(
        organisation_id=tenant,
        departments=(Department(name=TECHNICAL_SUPPORT, round_robin=True), Department(name=BILLING)),
        categories=(
            Category(name="Server down", department=TECHNICAL_SUPPORT),
            Category(name="Domains and DNS", department=TECHNICAL_SUPPORT),
            Category(name="Mail", department=TECHNICAL_SUPPORT),
            Category(name="Invoices and payments", department=BILLING, for_subaccounts=False),
            Category(name="Upgrade my plan", department=BILLING, for_subaccounts=False),
        ),
        status_labels={
            "Validation": Status.IN_PROGRESS,
            "Install request": Status.IN_PROGRESS,
            "To do": Status.ON_HOLD,
        },
        canned_responses=(
            CannedResponse(
                name="Restarted", body="We restarted the service; it answers again. Tell us if it does not."
            ),
            CannedResponse(
                name="Need details", body="Could you tell us the domain or server concerned, and when it began?"
            ),
            CannedResponse(name="Refund issued", body="We issued the refund; it reaches your account within 5 days."),
        ),
    )


def demo_plan(tenant: str) -> DemoPlan:
    """The demo tree of ``tenant``: two resellers with two customers each, one customer straight under the
    provider, subaccounts under some customers; the provider's staff in two departments, an agent per reseller."""
    t = tenant
    north, south = f"{t}-reseller-north", f"{t}-reseller-south"
    provider = account_record(t, AccountKind.PROVIDER, None, "Demo Hosting", f"support@{t}.example")
    resellers = (
        account_record(north, AccountKind.RESELLER, t, "North Web Services", "help@north.example"),
        account_record(south, AccountKind.RESELLER, t, "South Cloud", "help@south.example"),
    )
    customers = (
        account_record(
            f"{t}-customer-jo",
            AccountKind.CUSTOMER,
            t,
            "Jo Customer",
            "jo@customer.example",
            ("vps-1042", "VPS Prague"),
            ("web-77", "Shared hosting jo.example"),
        ),
        account_record(
            f"{t}-customer-ana",
            AccountKind.CUSTOMER,
            north,
            "Ana Lima",
            "ana@lima.example",
            ("web-201", "Shared hosting lima.example"),
        ),
        account_record(
            f"{t}-customer-ben",
            AccountKind.CUSTOMER,
            north,
            "Ben Okafor",
            "ben@okafor.example",
            ("vps-2210", "VPS Lagos"),
            ("db-15", "Managed MySQL"),
        ),
        account_record(
            f"{t}-customer-chloe",
            AccountKind.CUSTOMER,
            south,
            "Chloé Martin",
            "chloe@martin.example",
            ("web-310", "Hébergement martin.example"),
            language=Language.FR,
        ),
        account_record(
            f"{t}-customer-dan", AccountKind.CUSTOMER, south, "Dan Berg", "dan@berg.example", ("vps-3301", "VPS Oslo")
        ),
    )
    subaccounts = (
        account_record(
            f"{t}-mail-jo",
            AccountKind.SUBACCOUNT,
            f"{t}-customer-jo",
            "Jo's mailbox",
            "box@jo.example",
            ("mail-9", "Mailbox box@jo.example"),
        ),
        account_record(
            f"{t}-ftp-ana",
            AccountKind.SUBACCOUNT,
            f"{t}-customer-ana",
            "Ana's FTP",
            "ftp@lima.example",
            ("ftp-4", "FTP lima.example"),
        ),
    )
    staff = (
        staff_record(f"{t}-supervisor-kim", t, StaffRole.SUPERVISOR, "Kim Supervisor", TECHNICAL_SUPPORT, BILLING),
        staff_record(f"{t}-agent-sam", t, StaffRole.AGENT, "Sam Support", TECHNICAL_SUPPORT),
        staff_record(f"{t}-agent-lee", t, StaffRole.AGENT, "Lee Ledger", BILLING),
        staff_record(f"{north}-agent-nia", north, StaffRole.AGENT, "Nia North"),
        staff_record(f"{south}-agent-sol", south, StaffRole.AGENT, "Sol South"),
    )
    tokens = (
        DemoToken("PROVIDER_TOKEN", t, "provider"),
        DemoToken("RESELLER_TOKEN", north, "reseller"),
        DemoToken("CUSTOMER_TOKEN", f"{t}-customer-jo", "customer (of the provider)"),
        DemoToken("RESELLER_CUSTOMER_TOKEN", f"{t}-customer-ana", "customer (of a reseller)"),
        DemoToken("SUBACCOUNT_TOKEN", f"{t}-mail-jo", "subaccount"),
        DemoToken("SUPERVISOR_TOKEN", f"{t}-supervisor-kim", "supervisor (provider)"),
        DemoToken("STAFF_TOKEN", f"{t}-agent-sam", "agent (provider)"),
        DemoToken("RESELLER_STAFF_TOKEN", f"{north}-agent-nia", "agent (reseller)"),
    )
    # Mail to these reaches intake's SMTP listener (make run: port 2525): a ticket in the department named.
    support_addresses = (
        SupportAddressRecord(address=f"support@{t}.example", organisation_id=t, department=TECHNICAL_SUPPORT),
        SupportAddressRecord(address=f"billing@{t}.example", organisation_id=t, department=BILLING),
        SupportAddressRecord(address="support@north.example", organisation_id=north),
    )
    return DemoPlan(
        tenant=tenant,
        layers=((provider,), (provider_configuration(t),), resellers, customers, subaccounts, staff, support_addresses),
        tokens=tokens,
    )


@dataclass(frozen=True)
class Applied:
    key: str
    said: str
    version: int | None


async def put_plan(directory: Directory, plan: DemoPlan, *, actor: Actor) -> list[Applied]:
    """Put every record of ``plan``, layer after layer; the first refusal stops it (``CommandFailed``)."""
    applied: list[Applied] = []
    for layer in plan.layers:
        applied += await asyncio.gather(*(put_record(directory, record, actor=actor) for record in layer))
    return applied


async def put_record(directory: Directory, record: Record, *, actor: Actor) -> Applied:
    key = record_key(record)
    current = await directory.get(key)
    if isinstance(record, Configuration) and isinstance(current, Configuration):
        record = kept_departments(record, current)
    command = _command(record, actor=actor)
    outcome = await apply(directory, command, current=current, command_id=None)
    return Applied(key=key, said=said(outcome, current=current, asked=record), version=outcome.version)


def kept_departments(planned: Configuration, current: Configuration) -> Configuration:
    """The demo's configuration with the departments added since kept: a department is never removed."""
    names = {department.name for department in planned.departments}
    added = tuple(department for department in current.departments if department.name not in names)
    return planned.model_copy(update={"departments": (*planned.departments, *added)})


def _command(record: Record, *, actor: Actor) -> PutAccount | PutStaff | Configure | PutSupportAddress:
    issued_at = now()
    if isinstance(record, SupportAddressRecord):
        return PutSupportAddress(command_id=PLACEHOLDER, actor=actor, issued_at=issued_at, support_address=record)
    if isinstance(record, AccountRecord):
        return PutAccount(command_id=PLACEHOLDER, actor=actor, issued_at=issued_at, account=record)
    if isinstance(record, StaffRecord):
        return PutStaff(command_id=PLACEHOLDER, actor=actor, issued_at=issued_at, staff=record)
    assert isinstance(record, Configuration), "the demo puts no API key"
    return Configure(command_id=PLACEHOLDER, actor=actor, issued_at=issued_at, configuration=record)


def env_lines(tokens: Sequence[tuple[DemoToken, str]]) -> str:
    """``KEY=value`` lines of the demo's tokens, for ``source`` or an env file."""
    return "".join(f"{token.env_key}={value}\n" for token, value in tokens)
