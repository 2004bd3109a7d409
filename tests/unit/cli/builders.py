"""Records and runs of ``hostdesk`` for the command line's unit tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hostdesk_cli.main import app
from hostdesk_contracts.directory import AccountKind, AccountRecord, Configuration, Department, StaffRecord, StaffRole
from typer.testing import CliRunner, Result

from .fake import FakeDirectory

TENANT = "acme"
SECRET = "unit-secret-0123456789abcdefghijklmnop"


def run(
    directory: FakeDirectory, *args: str, env: Mapping[str, str] | None = None, tenant: str | None = TENANT
) -> Result:
    """``hostdesk <args>`` on ``directory``, acting in ``tenant``."""
    given = {"HOSTDESK_TENANT": tenant} if tenant else {}
    runner = CliRunner()
    return runner.invoke(app, list(args), obj=directory.wiring(), env={**given, **(env or {})}, catch_exceptions=False)


def account(
    record_id: str, kind: AccountKind, parent: str | None = None, *, version: int = 1, name: str | None = None
) -> AccountRecord:
    return AccountRecord(
        id=record_id, kind=kind, parent_id=parent, display_name=name or record_id.title(), version=version
    )


def tree(tenant: str = TENANT) -> list[AccountRecord]:
    """A provider with a reseller, a customer under each, a subaccount."""
    return [
        account(tenant, AccountKind.PROVIDER),
        account(f"{tenant}-reseller", AccountKind.RESELLER, tenant),
        account(f"{tenant}-direct", AccountKind.CUSTOMER, tenant),
        account(f"{tenant}-client", AccountKind.CUSTOMER, f"{tenant}-reseller"),
        account(f"{tenant}-ftp", AccountKind.SUBACCOUNT, f"{tenant}-client"),
    ]


def staff(record_id: str, organisation: str = TENANT, *departments: str) -> StaffRecord:
    return StaffRecord(
        id=record_id,
        organisation_id=organisation,
        role=StaffRole.AGENT,
        departments=departments,
        display_name=record_id,
    )


def configuration(organisation: str = TENANT, *names: str, version: int = 1) -> Configuration:
    return Configuration(
        organisation_id=organisation, departments=tuple(Department(name=name) for name in names), version=version
    )


def lines_with(output: str, *words: str) -> Sequence[str]:
    return [line for line in output.splitlines() if all(word in line for word in words)]
