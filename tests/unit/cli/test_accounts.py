"""``hostdesk accounts``: what a put sends, what it refuses unsent, and how the tree is listed."""

from __future__ import annotations

import pytest
from hostdesk_cli.outcomes import NO_OUTCOME, REFUSED, UNREACHABLE
from hostdesk_contracts.base import Role
from hostdesk_contracts.directory import AccountKind, AccountRecord, PutAccount
from hostdesk_contracts.outcomes import CommandOutcome, Refusal

from .builders import TENANT, account, lines_with, run, tree
from .fake import FakeDirectory


@pytest.fixture
def directory() -> FakeDirectory:
    found = FakeDirectory()
    found.put(*tree())
    return found


def test_a_customer_is_put_by_the_tenants_provider(directory: FakeDirectory) -> None:
    result = run(
        directory,
        *("accounts", "put", "cust-1042", "--kind", "customer", "--parent", f"{TENANT}-reseller"),
        *("--name", "Jo Example", "--email", "jo@example.com", "--language", "fr"),
        *("--service", "vps-1042=VPS Prague", "--service", "web-7=Shared = hosting"),
    )

    assert result.exit_code == 0, result.output
    [command] = directory.sent
    assert isinstance(command, PutAccount)
    assert command.actor.account_id == TENANT
    assert command.actor.tenant == TENANT
    assert command.actor.role is Role.PROVIDER
    assert command.account.parent_id == f"{TENANT}-reseller"
    assert command.account.language == "fr"
    assert [(each.id, each.label) for each in command.account.services] == [
        ("vps-1042", "VPS Prague"),
        ("web-7", "Shared = hosting"),
    ]
    assert "Created principal.cust-1042 (version 1)" in result.output


def test_a_provider_creates_itself_as_its_own_tenant() -> None:
    directory = FakeDirectory()

    result = run(directory, "accounts", "put", "newhost", "--kind", "provider", "--name", "New Host", tenant=None)

    assert result.exit_code == 0, result.output
    [command] = directory.sent
    assert command.actor.account_id == command.actor.tenant == "newhost"


def test_a_provider_put_in_another_tenant_is_refused_unsent() -> None:
    directory = FakeDirectory()

    result = run(directory, "accounts", "put", "newhost", "--kind", "provider", "--name", "New Host")

    assert result.exit_code == REFUSED
    assert "its own tenant" in result.output
    assert directory.sent == []


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("cust-1", "--kind", "customer", "--name", "No Parent"), "--parent"),
        (("top", "--kind", "provider", "--parent", TENANT, "--name", "Parented"), "--parent"),
        (("cust.1", "--kind", "customer", "--parent", TENANT, "--name", "Dotted"), "ID"),
        (("cust-1", "--kind", "customer", "--parent", "a>b", "--name", "Bad parent"), "--parent"),
        (("cust-1", "--kind", "customer", "--parent", TENANT, "--name", "x" * 201), "--name"),
        (("cust-1", "--kind", "customer", "--parent", TENANT, "--name", "S", "--service", "no-label"), "--service"),
        (("cust-1", "--kind", "emperor", "--parent", TENANT, "--name", "Kind"), "--kind"),
        (("cust-1", "--kind", "customer", "--parent", TENANT, "--name", "L", "--language", "de"), "--language"),
    ],
)
def test_a_malformed_account_is_a_usage_error_naming_its_option_and_sends_nothing(
    directory: FakeDirectory, args: tuple[str, ...], option: str
) -> None:
    result = run(directory, "accounts", "put", *args)

    assert result.exit_code == 2, result.output
    assert option in result.output
    assert directory.sent == []


def test_the_same_put_twice_is_one_command(directory: FakeDirectory) -> None:
    args = ("accounts", "put", "cust-9", "--kind", "customer", "--parent", TENANT, "--name", "Nine")
    directory.decide = lambda command: None  # no outcome: the record stays as it was

    first = run(directory, *args)
    second = run(directory, *args)

    assert first.exit_code == second.exit_code == NO_OUTCOME
    assert directory.sent[0].command_id == directory.sent[1].command_id
    assert f"--command-id {directory.sent[0].command_id}" in first.output


def test_putting_back_what_a_record_was_is_a_new_command(directory: FakeDirectory) -> None:
    base = ("accounts", "put", "cust-9", "--kind", "customer", "--parent", TENANT)

    for name in ("Nine", "Ten", "Nine"):
        assert run(directory, *base, "--name", name).exit_code == 0

    assert len({command.command_id for command in directory.sent}) == 3
    stored = directory.stored["principal.cust-9"]
    assert isinstance(stored, AccountRecord)
    assert (stored.display_name, stored.version) == ("Nine", 3)


def test_a_put_of_what_the_record_is_says_nothing_changed(directory: FakeDirectory) -> None:
    args = ("accounts", "put", f"{TENANT}-direct", "--kind", "customer", "--parent", TENANT)

    result = run(directory, *args, "--name", f"{TENANT}-direct".title())

    assert result.exit_code == 0, result.output
    assert "nothing changed (version 1)" in result.output


def test_a_given_command_id_is_the_one_sent(directory: FakeDirectory) -> None:
    args = ("accounts", "put", "cust-9", "--kind", "customer", "--parent", TENANT, "--name", "Nine")

    result = run(directory, *args, "--command-id", "retry-of-earlier")

    assert result.exit_code == 0, result.output
    assert directory.sent[0].command_id == "retry-of-earlier"


@pytest.mark.parametrize("command_id", ["a.b", "id,", "a b", "x" * 201, ""])
def test_a_command_id_that_is_no_subject_token_is_a_usage_error(directory: FakeDirectory, command_id: str) -> None:
    args = ("accounts", "put", "cust-9", "--kind", "customer", "--parent", TENANT, "--name", "Nine")

    result = run(directory, *args, "--command-id", command_id)

    assert result.exit_code == 2, result.output
    assert "--command-id" in result.output
    assert directory.sent == []


def test_a_refusal_prints_its_detail_and_field_and_exits_1(directory: FakeDirectory) -> None:
    def refuse(command: object) -> CommandOutcome:
        assert isinstance(command, PutAccount)
        return CommandOutcome.of(
            command, result="refused", refusal=Refusal.INVALID, detail="An account's kind never changes.", field="kind"
        )

    directory.decide = refuse

    result = run(
        directory, "accounts", "put", f"{TENANT}-direct", "--kind", "reseller", "--parent", TENANT, "--name", "R"
    )

    assert result.exit_code == REFUSED
    assert "An account's kind never changes." in result.output
    assert "[field: kind]" in result.output


def test_an_installation_out_of_reach_exits_3_having_sent_nothing(directory: FakeDirectory) -> None:
    directory.reachable = False

    result = run(directory, "accounts", "put", "cust-9", "--kind", "customer", "--parent", TENANT, "--name", "N")

    assert result.exit_code == UNREACHABLE
    assert "Nothing was sent" in result.output


def test_the_list_is_the_tenants_tree_in_order(directory: FakeDirectory) -> None:
    directory.put(*tree("other"))

    result = run(directory, "accounts", "list")

    assert result.exit_code == 0, result.output
    ids = [line.split("│")[1].rstrip() for line in result.output.splitlines() if line.startswith("│")]
    assert [each.strip() for each in ids] == [
        TENANT,
        f"{TENANT}-direct",
        f"{TENANT}-reseller",
        f"{TENANT}-client",
        f"{TENANT}-ftp",
    ]
    assert ids[3].startswith(f"     {TENANT}-client")  # two levels down: indented twice
    assert "other" not in result.output


def test_the_list_filters_by_kind_and_by_subtree(directory: FakeDirectory) -> None:
    customers = run(directory, "accounts", "list", "--kind", "customer")
    below = run(directory, "accounts", "list", "--under", f"{TENANT}-reseller")

    assert lines_with(customers.output, f"{TENANT}-direct")
    assert lines_with(customers.output, f"{TENANT}-client")
    assert not lines_with(customers.output, f"{TENANT}-ftp")
    assert lines_with(below.output, f"{TENANT}-client")
    assert lines_with(below.output, f"{TENANT}-ftp")
    assert not lines_with(below.output, f"{TENANT}-direct")


def test_an_account_of_another_tenant_is_not_shown(directory: FakeDirectory) -> None:
    directory.put(account("foreign", AccountKind.PROVIDER))

    result = run(directory, "accounts", "show", "foreign")

    assert result.exit_code == REFUSED
    assert "No account 'foreign'" in result.output


def test_an_account_is_shown_with_its_place_in_the_tree(directory: FakeDirectory) -> None:
    result = run(directory, "accounts", "show", f"{TENANT}-client")

    assert result.exit_code == 0, result.output
    assert lines_with(result.output, "above it", f"{TENANT} > {TENANT}-reseller")
    assert lines_with(result.output, "children", f"{TENANT}-ftp")


def test_a_list_without_a_tenant_says_which_setting_is_missing(directory: FakeDirectory) -> None:
    result = run(directory, "accounts", "list", tenant=None)

    assert result.exit_code == REFUSED
    assert "HOSTDESK_TENANT" in result.output
