"""The demo directory as data (its tree, staff and configuration hold together), and its run (twice changes
nothing; a token for each kind of caller, also written as KEY=value lines)."""

from __future__ import annotations

import stat
from collections import Counter
from pathlib import Path

import jwt
from hostdesk_cli.demo import BILLING, TECHNICAL_SUPPORT, demo_plan
from hostdesk_contracts.directory import AccountKind, AccountRecord, Configuration, StaffRecord, StaffRole

from .builders import SECRET, run
from .fake import FakeDirectory

PLAN = demo_plan("demo")
ACCOUNTS = [record for record in PLAN.records if isinstance(record, AccountRecord)]
STAFF = [record for record in PLAN.records if isinstance(record, StaffRecord)]
BY_ID = {account.id: account for account in ACCOUNTS}


def test_every_parent_is_put_in_a_layer_before_its_children() -> None:
    layer_of = {
        record.id: n for n, layer in enumerate(PLAN.layers) for record in layer if isinstance(record, AccountRecord)
    }

    for account in ACCOUNTS:
        if account.parent_id is not None:
            assert layer_of[account.parent_id] < layer_of[account.id], account.id


def test_the_tree_has_two_resellers_of_two_customers_and_a_customer_of_the_provider() -> None:
    [provider] = [account for account in ACCOUNTS if account.kind is AccountKind.PROVIDER]
    resellers = [account for account in ACCOUNTS if account.kind is AccountKind.RESELLER]
    customers = [account for account in ACCOUNTS if account.kind is AccountKind.CUSTOMER]

    assert provider.id == "demo"
    assert provider.parent_id is None
    assert len(resellers) == 2
    assert all(reseller.parent_id == "demo" for reseller in resellers)
    assert Counter(customer.parent_id for customer in customers) == {"demo": 1, **{each.id: 2 for each in resellers}}
    assert all(1 <= len(customer.services) <= 2 for customer in customers)


def test_subaccounts_hang_under_customers_and_every_kind_is_where_it_may_be() -> None:
    subaccounts = [account for account in ACCOUNTS if account.kind is AccountKind.SUBACCOUNT]

    assert subaccounts
    for account in ACCOUNTS:
        parent_kind = BY_ID[account.parent_id].kind if account.parent_id else None
        assert (parent_kind in account.kind.parent_kinds) or (
            account.parent_id is None and not account.kind.parent_kinds
        )


def test_staff_are_in_departments_their_organisation_has() -> None:
    [configuration] = [record for record in PLAN.records if isinstance(record, Configuration)]
    departments = {department.name for department in configuration.departments}
    provider_staff = [member for member in STAFF if member.organisation_id == "demo"]

    assert departments == {TECHNICAL_SUPPORT, BILLING}
    assert {category.department for category in configuration.categories} <= departments
    assert configuration.canned_responses
    assert [member.role for member in provider_staff].count(StaffRole.SUPERVISOR) == 1
    for department in departments:
        assert any(member.role is StaffRole.AGENT and department in member.departments for member in provider_staff)
    for member in STAFF:
        assert set(member.departments) <= (departments if member.organisation_id == "demo" else set())
        assert BY_ID[member.organisation_id].kind.has_staff


def test_each_reseller_has_one_agent() -> None:
    resellers = [account.id for account in ACCOUNTS if account.kind is AccountKind.RESELLER]

    assert Counter(member.organisation_id for member in STAFF if member.organisation_id in resellers) == {
        reseller: 1 for reseller in resellers
    }


def test_every_id_starts_with_the_tenant_so_two_demo_tenants_never_meet() -> None:
    other = demo_plan("other")

    ids = {record.id for record in PLAN.records if isinstance(record, AccountRecord | StaffRecord)}
    assert all(each.startswith("demo") for each in ids)
    assert not ids & {record.id for record in other.records if isinstance(record, AccountRecord | StaffRecord)}


def test_a_token_names_a_record_of_the_plan_for_every_kind_of_caller() -> None:
    subjects = {record.id: record for record in PLAN.records if isinstance(record, AccountRecord | StaffRecord)}
    kinds = {_kind_of(subjects[token.subject]) for token in PLAN.tokens}

    assert kinds == {*AccountKind, *StaffRole}
    assert {"CUSTOMER_TOKEN", "STAFF_TOKEN"} <= {token.env_key for token in PLAN.tokens}


def test_the_demo_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    directory = FakeDirectory()
    env = {"HOSTDESK_JWT_SECRET": SECRET}

    first = run(directory, "demo", env=env, tenant=None)
    after_first = dict(directory.stored)
    second = run(directory, "demo", "--env", str(tmp_path / "demo.env"), env=env, tenant=None)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert directory.stored == after_first
    assert len(after_first) == len(PLAN.records)
    assert second.output.count("nothing changed") == len(PLAN.records)


def test_the_env_file_holds_a_line_per_token_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "demo.env"

    result = run(FakeDirectory(), "demo", "--env", str(path), env={"HOSTDESK_JWT_SECRET": SECRET}, tenant="shop")

    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in path.read_text().splitlines())
    assert set(lines) == {token.env_key for token in demo_plan("shop").tokens}
    assert jwt.decode(lines["PROVIDER_TOKEN"], SECRET, algorithms=["HS256"])["sub"] == "shop"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_demo_keeps_departments_added_since() -> None:
    directory = FakeDirectory()
    env = {"HOSTDESK_JWT_SECRET": SECRET}
    assert run(directory, "demo", env=env, tenant=None).exit_code == 0
    assert run(directory, "departments", "add", "demo", "Sales", tenant="demo").exit_code == 0

    result = run(directory, "demo", env=env, tenant=None)

    assert result.exit_code == 0, result.output
    stored = directory.stored["configuration.demo"]
    assert isinstance(stored, Configuration)
    assert [each.name for each in stored.departments] == [TECHNICAL_SUPPORT, BILLING, "Sales"]


def test_the_demo_needs_the_token_key_before_it_sends_anything() -> None:
    directory = FakeDirectory()

    result = run(directory, "demo", tenant=None)

    assert result.exit_code == 1
    assert directory.sent == []


def _kind_of(record: AccountRecord | StaffRecord) -> AccountKind | StaffRole:
    return record.kind if isinstance(record, AccountRecord) else record.role
