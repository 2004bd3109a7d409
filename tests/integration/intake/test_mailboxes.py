"""The IMAP and POP3 adapters against a real Dovecot: a session lists, fetches without marking read, and deletes
only what it was told to, only once it ends well; a session broken off deletes nothing."""

from __future__ import annotations

import secrets

import pytest
from hostdesk_contracts.directory import MailboxProtocol, MailboxRecord, MailboxSecurity
from hostdesk_devtools.dovecot import OwnDovecot
from hostdesk_intake.adapters.mailboxes import MailboxUnavailable, NetworkMailboxes

PROTOCOLS = [MailboxProtocol.IMAP, MailboxProtocol.POP3]


def message(subject: str, body: str = "Hello.") -> bytes:
    return f"From: Ada <ada@example.net>\r\nTo: support@example.com\r\nSubject: {subject}\r\n\r\n{body}\r\n".encode()


def mailbox_of(dovecot: OwnDovecot, protocol: MailboxProtocol) -> tuple[MailboxRecord, str]:
    username, password = f"support-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
    dovecot.add_user(username, password)
    record = MailboxRecord(
        protocol=protocol,
        host="127.0.0.1",
        port=dovecot.imap_port if protocol is MailboxProtocol.IMAP else dovecot.pop3_port,
        security=MailboxSecurity.NONE,
        username=username,
        password_sealed="not read by the adapter",
    )
    return record, password


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_session_deletes_what_it_was_told_to_once_it_ends(
    dovecot: OwnDovecot, protocol: MailboxProtocol
) -> None:
    mailbox, password = mailbox_of(dovecot, protocol)
    dovecot.deliver(mailbox.username, message("first"), message("second", "A line.\r\n.\r\n..dots"), message("third"))
    client = NetworkMailboxes(timeout=10)

    session = await client.open(mailbox, password)
    letters = await session.letters()
    assert len(letters) == 3
    assert all(each.size > 0 for each in letters)
    first, second = await session.fetch(letters[0]), await session.fetch(letters[1])
    assert b"Subject: first" in first
    assert b"A line.\r\n.\r\n..dots" in second  # dot-stuffing undone, lines as they were
    await session.delete(letters[0])
    await session.delete(letters[1])
    await session.close()

    assert dovecot.count(mailbox.username) == 1
    session = await client.open(mailbox, password)
    (left,) = await session.letters()
    assert left.key == letters[2].key  # the server's id of a message holds across sessions
    assert b"Subject: third" in await session.fetch(left)
    await session.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_session_broken_off_deletes_nothing(dovecot: OwnDovecot, protocol: MailboxProtocol) -> None:
    mailbox, password = mailbox_of(dovecot, protocol)
    dovecot.deliver(mailbox.username, message("kept"))
    session = await NetworkMailboxes(timeout=10).open(mailbox, password)
    (letter,) = await session.letters()
    await session.fetch(letter)
    await session.delete(letter)
    await session.abort()  # as a process killed between storing the message and ending the session

    assert dovecot.count(mailbox.username) == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_wrong_password_or_no_server_is_a_reason_not_a_crash(protocol: MailboxProtocol) -> None:
    # A Dovecot of its own: after a failed login, Dovecot slows every login from that address for a while.
    dovecot = OwnDovecot().start()
    try:
        mailbox, _ = mailbox_of(dovecot, protocol)
        with pytest.raises(MailboxUnavailable, match=r"(?i)authentication failed"):
            await NetworkMailboxes(timeout=10).open(mailbox, "wrong")
    finally:
        dovecot.remove()

    elsewhere = mailbox.model_copy(update={"port": 1})
    with pytest.raises(MailboxUnavailable, match="refused"):
        await NetworkMailboxes(timeout=10).open(elsewhere, "wrong")


async def test_an_imap_folder_that_does_not_exist_is_named(dovecot: OwnDovecot) -> None:
    mailbox, password = mailbox_of(dovecot, MailboxProtocol.IMAP)
    with pytest.raises(MailboxUnavailable, match="Support Inbox"):
        await NetworkMailboxes(timeout=10).open(mailbox.model_copy(update={"folder": "Support Inbox"}), password)
