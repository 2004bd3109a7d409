"""Polling a support mailbox, over a mailbox in memory: what is stored is deleted, and only that; one replica polls
a mailbox while its lease is fresh; every poll says in the mailbox's status what it did or why it failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hostdesk_contracts.directory import (
    AccountKind,
    AccountRecord,
    MailboxProtocol,
    MailboxRecord,
    MailboxSecurity,
    SupportAddressRecord,
)
from hostdesk_contracts.mail import MailSource
from hostdesk_contracts.runtime.blobs import BlobsUnavailable, MemoryBlobStore
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_contracts.runtime.sealing import Sealer, new_key
from hostdesk_intake.adapters.mail_stream import MemoryMailStream
from hostdesk_intake.adapters.mailbox_status import MemoryMailboxStatuses
from hostdesk_intake.adapters.mailboxes import Letter, MailboxUnavailable
from hostdesk_intake.domain.mailboxes import MailboxStatus
from hostdesk_intake.service_layer.mail_receiving import MailReceiver
from hostdesk_intake.service_layer.mailbox_polling import MailboxPoller, chunks

from tests.unit.intake.builders import NOW

KEY = new_key()
SEALER = Sealer([KEY])


@dataclass
class Mailbox:
    """A mailbox in memory: ``messages`` by key; ``fail_fetch`` breaks the session off at that message."""

    password: str = "s3cret"
    messages: dict[str, bytes] = field(default_factory=dict)
    fail_fetch: str | None = None
    sessions: int = 0

    async def open(self, mailbox: MailboxRecord, password: str) -> Session:
        if password != self.password:
            raise MailboxUnavailable("[AUTHENTICATIONFAILED] Authentication failed.")
        self.sessions += 1
        return Session(self)


@dataclass
class Session:
    box: Mailbox
    deleted: list[str] = field(default_factory=list)

    async def letters(self) -> list[Letter]:
        return [Letter(key, len(raw)) for key, raw in self.box.messages.items()]

    async def fetch(self, letter: Letter) -> bytes:
        if letter.key == self.box.fail_fetch:
            raise MailboxUnavailable("connection reset")
        return self.box.messages[letter.key]

    async def delete(self, letter: Letter) -> None:
        self.deleted.append(letter.key)

    async def close(self) -> None:
        for key in self.deleted:
            del self.box.messages[key]

    async def abort(self) -> None:
        self.deleted.clear()


def message(number: int, *, size: int = 0) -> bytes:
    return (
        f"Return-Path: <ada{number}@example.net>\r\nFrom: ada{number}@example.net\r\nSubject: {number}\r\n\r\n".encode()
        + b"x" * size
    )


ADDRESS = SupportAddressRecord(
    address="support@example.com",
    organisation_id="acme",
    mailbox=MailboxRecord(
        protocol=MailboxProtocol.POP3,
        host="mail.example.com",
        port=995,
        security=MailboxSecurity.TLS,
        username="support@example.com",
        password_sealed=SEALER.seal("s3cret"),
    ),
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    box: Mailbox
    store: MemoryBlobStore
    stream: MemoryMailStream
    statuses: MemoryMailboxStatuses
    clock: Clock
    directory: MemoryDirectory

    def poller(self, instance: str = "intake-1", *, batch: int = 100, max_bytes: int = 10_000) -> MailboxPoller:
        receiver = MailReceiver(directory=self.directory, store=self.store, stream=self.stream, clock=self.clock)
        return MailboxPoller(
            receiver=receiver,
            client=self.box,
            statuses=self.statuses,
            sealer=SEALER,
            clock=self.clock,
            instance=instance,
            max_bytes=max_bytes,
            batch=batch,
        )


@pytest.fixture
def world() -> World:
    directory = MemoryDirectory()
    directory.put(AccountRecord(id="acme", kind=AccountKind.PROVIDER, display_name="Acme"), ADDRESS)
    return World(Mailbox(), MemoryBlobStore(), MemoryMailStream(), MemoryMailboxStatuses(), Clock(), directory)


async def test_each_message_is_stored_and_published_then_deleted(world: World) -> None:
    world.box.messages = {"a": message(1), "b": message(2)}

    poll = await world.poller().poll(ADDRESS)

    assert world.box.messages == {}
    assert [each.source for each in world.stream.mail] == [MailSource.POP3, MailSource.POP3]
    assert [each.return_path for each in world.stream.mail] == ["ada1@example.net", "ada2@example.net"]
    assert {each.recipients for each in world.stream.mail} == {("support@example.com",)}
    assert len(world.store.files) == 2
    assert poll.status is not None
    assert (poll.status.received, poll.status.waiting, poll.status.error) == (2, 0, None)
    assert poll.status.succeeded_at == NOW
    assert not poll.more


async def test_a_message_that_cannot_be_stored_stays_with_those_after_it(world: World) -> None:
    world.box.messages = {"a": message(1), "b": message(2)}
    poller = world.poller()
    world.store.reachable = False

    poll = await poller.poll(ADDRESS)

    assert list(world.box.messages) == ["a", "b"]
    assert poll.status is not None
    assert poll.status.error is not None
    assert "left in the mailbox" in poll.status.error
    assert world.stream.mail == []

    world.store.reachable = True
    await poller.poll(ADDRESS)
    assert world.box.messages == {}
    assert len(world.stream.mail) == 2


async def test_a_session_broken_off_deletes_nothing_and_the_next_poll_receives_the_same_mail_once(
    world: World,
) -> None:
    world.box.messages = {"a": message(1), "b": message(2)}
    world.box.fail_fetch = "b"
    poller = world.poller()

    poll = await poller.poll(ADDRESS)
    assert poll.status is not None
    assert poll.status.error == "the mailbox broke off: connection reset"
    assert list(world.box.messages) == ["a", "b"]  # "a" was stored, but its deletion never took effect

    world.box.fail_fetch = None
    await poller.poll(ADDRESS)
    assert world.box.messages == {}
    # "a" was received twice, as the same stored object and the same stream message: one mail
    assert len(world.store.files) == 2
    assert len(world.stream.mail) == 2


async def test_a_batch_at_a_time_and_the_next_at_once(world: World) -> None:
    world.box.messages = {str(number): message(number) for number in range(5)}
    poller = world.poller(batch=2)

    polls = [await poller.poll(ADDRESS) for _ in range(3)]

    assert [each.more for each in polls] == [True, True, False]
    assert world.box.messages == {}
    assert world.box.sessions == 3


async def test_a_message_over_the_limit_is_left_and_counted(world: World) -> None:
    world.box.messages = {"big": message(1, size=20_000), "small": message(2)}

    poll = await world.poller(max_bytes=10_000).poll(ADDRESS)

    assert list(world.box.messages) == ["big"]
    assert poll.status is not None
    assert (poll.status.received, poll.status.waiting, poll.status.too_large) == (1, 1, 1)
    assert not poll.more


async def test_a_refused_login_or_a_password_sealed_with_another_key_is_the_status_s_error(world: World) -> None:
    world.box.password = "changed"
    poll = await world.poller().poll(ADDRESS)
    assert poll.status is not None
    assert poll.status.error == "the mailbox cannot be opened: [AUTHENTICATIONFAILED] Authentication failed."

    assert ADDRESS.mailbox is not None
    foreign = ADDRESS.model_copy(
        update={"mailbox": ADDRESS.mailbox.model_copy(update={"password_sealed": Sealer([new_key()]).seal("x")})}
    )
    poll = await world.poller().poll(foreign)
    assert poll.status is not None
    assert poll.status.error is not None
    assert poll.status.error.startswith("the password cannot be opened")


async def test_one_replica_polls_a_mailbox_until_it_goes_quiet(world: World) -> None:
    world.box.messages = {"a": message(1)}
    first, second = world.poller("intake-1"), world.poller("intake-2")

    assert (await first.poll(ADDRESS)).status is not None
    world.box.messages = {"b": message(2)}
    assert (await second.poll(ADDRESS)).status is None  # the first holds it
    assert list(world.box.messages) == ["b"]

    world.clock.now += timedelta(seconds=3 * 60 + 61)  # three intervals and the grace: the first went quiet
    taken = await second.poll(ADDRESS)
    assert taken.status is not None
    assert taken.status.holder == "intake-2"
    assert world.box.messages == {}


async def test_a_status_written_in_between_loses_the_lease_to_the_other_replica(world: World) -> None:
    held, revision = await world.statuses.get(ADDRESS.address)
    assert (held, revision) == (None, 0)
    other = MailboxStatus(address=ADDRESS.address, protocol=MailboxProtocol.POP3, holder="intake-2", polled_at=NOW)
    assert await world.statuses.put(other, revision=0) == 1
    assert await world.statuses.put(other, revision=0) is None  # a replica that read before the other wrote


async def test_a_per_ticket_reply_address_in_the_headers_is_a_recipient(world: World) -> None:
    world.box.messages = {
        "a": b"Delivered-To: support+t482913@example.com\r\nFrom: ada@example.net\r\n"
        b"To: Support <SUPPORT+t482913@example.com>, other+t1@example.org\r\nSubject: Re\r\n\r\nThanks.\r\n"
    }

    await world.poller().poll(ADDRESS)

    (mail,) = world.stream.mail
    assert mail.recipients == ("support+t482913@example.com", "support@example.com")


def test_messages_are_stored_a_few_at_a_time_and_a_large_one_alone() -> None:
    letters = [Letter(str(n), size) for n, size in enumerate([10, 10, 10, 100, 10])]

    sizes = [[each.size for each in chunk] for chunk in chunks(letters, max_count=2, max_bytes=50)]

    assert sizes == [[10, 10], [10], [100], [10]]


async def test_of_a_chunk_the_messages_stored_are_deleted_and_the_one_that_failed_stays(world: World) -> None:
    world.box.messages = {"a": message(1), "b": message(2), "c": message(3)}
    failing = world.store
    puts = 0
    real_put = failing.put

    async def put_all_but_the_second(tenant: str, data: bytes) -> str:
        nonlocal puts
        puts += 1
        if b"Subject: 2" in data:
            raise BlobsUnavailable("the store is unreachable")
        return await real_put(tenant, data)

    failing.put = put_all_but_the_second  # type: ignore[method-assign]
    poll = await world.poller().poll(ADDRESS)

    assert list(world.box.messages) == ["b"]
    assert poll.status is not None
    assert (poll.status.received, poll.status.waiting) == (2, 1)
    assert poll.status.error is not None
