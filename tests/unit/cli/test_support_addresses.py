"""``hostdesk support-addresses put``: an organisation's support address, sent as the directory's command."""

from __future__ import annotations

import pytest
from hostdesk_contracts.directory import PutSupportAddress, SupportAddressRecord, record_key

from .builders import TENANT, run, tree
from .fake import FakeDirectory


@pytest.fixture
def directory() -> FakeDirectory:
    found = FakeDirectory()
    found.put(*tree())
    return found


def test_a_support_address_is_put_lower_cased_with_its_department(directory: FakeDirectory) -> None:
    result = run(
        directory,
        "support-addresses",
        "put",
        "Support@Example.COM",
        "--organisation",
        TENANT,
        "--department",
        "Billing",
    )

    assert result.exit_code == 0, result.output
    [command] = directory.sent
    assert isinstance(command, PutSupportAddress)
    assert command.support_address.address == "support@example.com"
    assert (command.support_address.organisation_id, command.support_address.department) == (TENANT, "Billing")
    stored = directory.stored[record_key(SupportAddressRecord, "support@example.com")]
    assert isinstance(stored, SupportAddressRecord)
    assert "support@example.com" in result.output


def test_an_address_that_is_none_is_refused_before_anything_is_sent(directory: FakeDirectory) -> None:
    result = run(directory, "support-addresses", "put", "not an address", "--organisation", TENANT)

    assert result.exit_code != 0
    assert directory.sent == []
