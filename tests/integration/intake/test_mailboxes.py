"""The IMAP and POP3 adapters against a real Dovecot: a session lists, fetches without marking read, and deletes
only what it was told to, only once it ends well; a session broken off deletes nothing; two replicas polling one
mailbox at once receive each message once."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime

import pytest
from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    MailboxProtocol,
    MailboxRecord,
    MailboxSecurity,
    SupportAddressRecord,
)
from hostdesk_contracts.runtime.blobs import MemoryBlobStore
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_contracts.runtime.sealing import Sealer, new_key
from hostdesk_devtools.dovecot import OwnDovecot
from hostdesk_intake.adapters.mail_stream import MemoryMailStream
from hostdesk_intake.adapters.mailbox_status import MemoryMailboxStatuses
from hostdesk_intake.adapters.mailboxes import MailboxUnavailable, NetworkMailboxes
from hostdesk_intake.service_layer.mail_receiving import MailReceiver
from hostdesk_intake.service_layer.mailbox_polling import MailboxPoller

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


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_two_replicas_polling_one_mailbox_at_once_receive_each_message_once(
    dovecot: OwnDovecot, protocol: MailboxProtocol
) -> None:
    """As at a lease's turn from one replica to another: both fetch, both store, one stream message each."""
    mailbox, password = mailbox_of(dovecot, protocol)
    dovecot.deliver(mailbox.username, *(message(f"number {n}") for n in range(20)))
    sealer = Sealer([new_key()])
    address = SupportAddressRecord(
        address=mailbox.username,
        organisation_id="acme",
        mailbox=mailbox.model_copy(update={"password_sealed": sealer.seal(password)}),
    )
    directory = MemoryDirectory()
    directory.put(AccountRecord(id="acme", kind=AccountKind.PROVIDER, display_name="Acme"), address)
    store, stream = MemoryBlobStore(), MemoryMailStream()
    receiver = MailReceiver(directory=directory, store=store, stream=stream, clock=lambda: datetime.now(UTC))

    def replica(name: str) -> MailboxPoller:
        return MailboxPoller(
            receiver=receiver,
            client=NetworkMailboxes(timeout=10),
            statuses=MemoryMailboxStatuses(),  # each its own: neither sees the other's lease
            sealer=sealer,
            clock=lambda: datetime.now(UTC),
            instance=name,
            max_bytes=1_000_000,
        )

    first, second = replica("intake-1"), replica("intake-2")
    for _ in range(3):  # until the mailbox is empty (a POP3 mailbox is locked by the other's session meanwhile)
        await asyncio.gather(first.poll(address), second.poll(address))
        if dovecot.count(mailbox.username) == 0:
            break

    assert dovecot.count(mailbox.username) == 0
    assert len(stream.mail) == 20
    assert len({each.mail_id for each in stream.mail}) == 20
