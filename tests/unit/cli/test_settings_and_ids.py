"""Connection settings from options and environment variables, command ids, and the bucket's records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hostdesk_cli.ids import derived_id
from hostdesk_cli.records import Tree, parse_record
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.directory import AccountKind, AccountRecord, PutAccount, StaffRecord

from .builders import account, run, tree
from .fake import FakeDirectory

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PROVIDER = Actor(account_id="acme", tenant="acme", role=Role.PROVIDER)


def test_the_command_lines_own_variables_win_over_the_services() -> None:
    directory = FakeDirectory()
    env = {
        "HOSTDESK_NATS_URL": "nats://cli:1",
        "NATS_URL": "nats://services:2",
        "HOSTDESK_SUBJECT_ROOT": "services_root",
        "HOSTDESK_NATS_PASSWORD": "pw",
        "HOSTDESK_DATABASE_URL": "postgresql://cli/db",
        "DATABASE_URL": "postgresql://services/db",
    }

    run(directory, "accounts", "list", env=env)

    assert directory.connection is not None
    assert directory.connection.nats_url == "nats://cli:1"
    assert directory.connection.root == "services_root"
    assert directory.connection.credentials() == {"user": "admin", "password": "pw"}
    assert directory.connection.database_url == "postgresql://cli/db"


def test_the_services_variables_serve_when_the_command_lines_are_unset() -> None:
    directory = FakeDirectory()

    run(directory, "accounts", "list", env={"NATS_URL": "nats://services:2", "HOSTDESK_ROOT": "mine"})

    assert directory.connection is not None
    assert directory.connection.nats_url == "nats://services:2"
    assert directory.connection.root == "mine"
    assert directory.connection.credentials() == {}  # no password: the URL's own, if any


@pytest.mark.parametrize(("option", "value"), [("--root", "Bad.Root"), ("--tenant", "Acme Corp"), ("--wait", "0")])
def test_a_malformed_setting_is_a_usage_error(option: str, value: str) -> None:
    directory = FakeDirectory()

    result = run(directory, option, value, "accounts", "list")

    assert result.exit_code == 2
    assert directory.connection is None


def test_a_command_id_ignores_the_time_and_the_id_it_was_built_with() -> None:
    first = PutAccount(
        command_id="a", actor=PROVIDER, issued_at=NOW, account=account("c1", AccountKind.CUSTOMER, "acme")
    )
    later = first.model_copy(update={"command_id": "b", "issued_at": NOW + timedelta(hours=1)})

    assert derived_id(first, read_version=1) == derived_id(later, read_version=1)
    assert derived_id(first, read_version=1) != derived_id(first, read_version=2)
    assert derived_id(first, read_version=None) != derived_id(
        first.model_copy(update={"account": account("c1", AccountKind.CUSTOMER, "acme", name="Other")}),
        read_version=None,
    )


def test_a_principal_is_an_account_or_a_staff_member_by_what_it_holds() -> None:
    customer = account("c1", AccountKind.CUSTOMER, "acme")
    member = StaffRecord(id="s1", organisation_id="acme", role="agent", display_name="S")

    assert parse_record("principal.c1", customer.model_dump_json().encode()) == customer
    assert parse_record("principal.s1", member.model_dump_json().encode()) == member
    assert parse_record("principal.x", b"{not json") is None
    assert parse_record("principal.x", b'{"kind": "emperor"}') is None


def test_the_tree_finds_tenants_and_survives_a_cycle() -> None:
    records = [
        *tree("acme"),
        AccountRecord(id="loop-a", kind=AccountKind.CUSTOMER, parent_id="loop-b", display_name="A"),
        AccountRecord(id="loop-b", kind=AccountKind.RESELLER, parent_id="loop-a", display_name="B"),
    ]
    found = Tree(records)

    assert found.tenant_of("acme-ftp") == "acme"
    assert [each.id for each in found.ancestors("acme-ftp")] == ["acme-client", "acme-reseller", "acme"]
    assert found.tenant_of("loop-a") is None
    assert next(placed.account.id for placed in found.ordered(tenant="acme")) == "acme"
