"""``hostdesk staff`` and ``hostdesk departments``: staff puts, and departments changed through the whole
configuration with the version read, a concurrent change refused as stale."""

from __future__ import annotations

import pytest
from hostdesk_cli.outcomes import REFUSED
from hostdesk_contracts.directory import Configuration, Configure, Department, PutStaff, StaffRole

from .builders import TENANT, configuration, lines_with, run, staff, tree
from .fake import FakeDirectory


@pytest.fixture
def directory() -> FakeDirectory:
    found = FakeDirectory()
    found.put(*tree(), configuration(TENANT, "Technical Support", "Billing", version=4))
    return found


def test_a_supervisor_is_put_in_departments(directory: FakeDirectory) -> None:
    result = run(
        directory,
        *("staff", "put", "kim", "--organisation", TENANT, "--role", "supervisor", "--name", "Kim"),
        *("--department", "Billing", "--department", "Technical Support", "--department", "Billing"),
    )

    assert result.exit_code == 0, result.output
    [command] = directory.sent
    assert isinstance(command, PutStaff)
    assert command.staff.role is StaffRole.SUPERVISOR
    assert command.staff.departments == ("Billing", "Technical Support")
    assert command.actor.account_id == TENANT


def test_a_staff_member_with_a_malformed_email_is_refused_unsent(directory: FakeDirectory) -> None:
    result = run(directory, "staff", "put", "kim", "--organisation", TENANT, "--role", "agent", "--name", "K" * 201)

    assert result.exit_code == 2
    assert "--name" in result.output
    assert directory.sent == []


def test_the_staff_list_is_the_tenants(directory: FakeDirectory) -> None:
    directory.put(staff("sam"), staff("nia", f"{TENANT}-reseller"), staff("stranger", "elsewhere"))

    everyone = run(directory, "staff", "list")
    resellers = run(directory, "staff", "list", "--organisation", f"{TENANT}-reseller")

    assert lines_with(everyone.output, "sam")
    assert lines_with(everyone.output, "nia")
    assert not lines_with(everyone.output, "stranger")
    assert lines_with(resellers.output, "nia")
    assert not lines_with(resellers.output, "sam")


def test_adding_a_department_sends_the_configuration_at_the_version_read(directory: FakeDirectory) -> None:
    result = run(directory, "departments", "add", TENANT, "Sales", "--round-robin")

    assert result.exit_code == 0, result.output
    [command] = directory.sent
    assert isinstance(command, Configure)
    assert command.expected_version == 4
    assert [each.name for each in command.configuration.departments] == ["Technical Support", "Billing", "Sales"]
    assert command.configuration.departments[-1].round_robin
    assert "version 5" in result.output


def test_a_department_added_to_an_organisation_without_configuration_makes_one(directory: FakeDirectory) -> None:
    result = run(directory, "departments", "add", f"{TENANT}-reseller", "Support")

    assert result.exit_code == 0, result.output
    [command] = directory.sent
    assert isinstance(command, Configure)
    assert command.expected_version is None
    assert command.configuration.organisation_id == f"{TENANT}-reseller"


def test_a_department_already_there_sends_nothing(directory: FakeDirectory) -> None:
    result = run(directory, "departments", "add", TENANT, "Billing")

    assert result.exit_code == 0, result.output
    assert "already a department" in result.output
    assert directory.sent == []


def test_retiring_keeps_the_department_marked_retired(directory: FakeDirectory) -> None:
    result = run(directory, "departments", "retire", TENANT, "Billing")

    assert result.exit_code == 0, result.output
    stored = directory.stored[f"configuration.{TENANT}"]
    assert isinstance(stored, Configuration)
    assert stored.departments == (Department(name="Technical Support"), Department(name="Billing", retired=True))


def test_adding_a_retired_department_brings_it_back(directory: FakeDirectory) -> None:
    assert run(directory, "departments", "retire", TENANT, "Billing").exit_code == 0

    result = run(directory, "departments", "add", TENANT, "Billing")

    assert result.exit_code == 0, result.output
    stored = directory.stored[f"configuration.{TENANT}"]
    assert isinstance(stored, Configuration)
    assert not stored.departments[1].retired


def test_retiring_an_unknown_department_names_the_known_ones_and_sends_nothing(directory: FakeDirectory) -> None:
    result = run(directory, "departments", "retire", TENANT, "Sales")

    assert result.exit_code == REFUSED
    assert "'Technical Support', 'Billing'" in result.output
    assert directory.sent == []


def test_a_change_made_meanwhile_is_refused_as_stale(directory: FakeDirectory) -> None:
    result = run(directory, "departments", "add", TENANT, "Sales", "--expected-version", "3")

    assert result.exit_code == REFUSED
    assert "stale" in result.output
    assert "version 4" in result.output
    stored = directory.stored[f"configuration.{TENANT}"]
    assert isinstance(stored, Configuration)
    assert stored.version == 4


def test_a_department_name_over_100_characters_is_a_usage_error(directory: FakeDirectory) -> None:
    result = run(directory, "departments", "add", TENANT, "x" * 101)

    assert result.exit_code == 2
    assert directory.sent == []


def test_the_departments_are_listed_with_their_staff(directory: FakeDirectory) -> None:
    directory.put(staff("sam", TENANT, "Technical Support"), staff("lee", TENANT, "Billing"))

    result = run(directory, "departments", "list", TENANT)

    assert result.exit_code == 0, result.output
    assert lines_with(result.output, "Technical Support", "active", "sam")
    assert lines_with(result.output, "Billing", "lee")
