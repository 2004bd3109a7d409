"""``hostdesk support-addresses put``: an organisation's support address, sent as the directory's command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from hostdesk_contracts.directory import (
    MailboxProtocol,
    MailboxSecurity,
    PutSupportAddress,
    SupportAddressRecord,
    record_key,
)
from hostdesk_contracts.runtime.sealing import Sealer, new_key

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


def mailbox_put(directory: FakeDirectory, tmp_path: Path, *extra: str, key: str | None = None) -> Result:
    return run(
        directory,
        "support-addresses",
        "put",
        "support@example.com",
        "--organisation",
        TENANT,
        *extra,
        env={"INTAKE_MAILBOX_KEYS": key or KEY},
    )


KEY = new_key()


def test_a_mailbox_url_is_put_with_its_password_sealed_never_in_the_clear(
    directory: FakeDirectory, tmp_path: Path
) -> None:
    secret = tmp_path / "password"
    secret.write_text("p4ss word\n", encoding="utf-8")
    result = mailbox_put(
        directory,
        tmp_path,
        "--mailbox",
        "imaps://support%40example.com@mail.example.com/Support%20Inbox",
        "--password-file",
        str(secret),
        "--interval",
        "120",
    )

    assert result.exit_code == 0, result.output
    [command] = directory.sent
    assert isinstance(command, PutSupportAddress)
    box = command.support_address.mailbox
    assert box is not None
    assert (box.protocol, box.security, box.host, box.port) == (
        MailboxProtocol.IMAP,
        MailboxSecurity.TLS,
        "mail.example.com",
        993,
    )
    assert (box.username, box.folder, box.interval_seconds) == ("support@example.com", "Support Inbox", 120)
    assert "p4ss" not in command.model_dump_json()
    assert Sealer([KEY]).open(box.password_sealed) == "p4ss word"
    assert "IMAP mailbox support@example.com at mail.example.com:993 is polled" in result.output


def test_a_change_of_department_keeps_the_mailbox_and_no_mailbox_removes_it(
    directory: FakeDirectory, tmp_path: Path
) -> None:
    secret = tmp_path / "password"
    secret.write_text("pw", encoding="utf-8")
    url = "pop3+starttls://support@mail.example.com"
    assert mailbox_put(directory, tmp_path, "--mailbox", url, "--password-file", str(secret)).exit_code == 0
    assert mailbox_put(directory, tmp_path, "--department", "Billing").exit_code == 0
    assert mailbox_put(directory, tmp_path, "--mailbox", url, "--interval", "30").exit_code == 0  # same login
    first, second, third = (each.support_address for each in directory.sent if isinstance(each, PutSupportAddress))
    assert second.mailbox == first.mailbox
    assert third.mailbox is not None
    assert first.mailbox is not None
    assert (third.mailbox.port, third.mailbox.interval_seconds) == (110, 30)
    assert Sealer([KEY]).open(third.mailbox.password_sealed) == "pw"  # the one held, sealed anew

    assert mailbox_put(directory, tmp_path, "--no-mailbox").exit_code == 0
    last = directory.sent[-1]
    assert isinstance(last, PutSupportAddress)
    assert last.support_address.mailbox is None


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (("--mailbox", "ftp://support@mail.example.com"), "the scheme is one of"),
        (("--mailbox", "imaps://mail.example.com"), "names its user and server"),
        (("--mailbox", "imaps://support@mail.example.com"), "needs its password"),
    ],
)
def test_a_bad_mailbox_is_refused_before_anything_is_sent(
    directory: FakeDirectory, tmp_path: Path, extra: tuple[str, ...], said: str
) -> None:
    result = mailbox_put(directory, tmp_path, *extra)

    assert result.exit_code != 0
    assert said in " ".join(result.output.replace("│", " ").split())  # as rich wraps it in its box
    assert directory.sent == []


def test_a_password_without_a_mailbox_key_is_refused(directory: FakeDirectory, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("pw", encoding="utf-8")
    result = run(
        directory,
        "support-addresses",
        "put",
        "support@example.com",
        "--organisation",
        TENANT,
        "--mailbox",
        "imaps://support@mail.example.com",
        "--password-file",
        str(secret),
        env={"INTAKE_MAILBOX_KEYS": ""},
    )

    assert result.exit_code != 0
    assert "INTAKE_MAILBOX_KEYS" in " ".join(result.output.replace("│", " ").split())
    assert directory.sent == []
