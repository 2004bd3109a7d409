"""Support mail made into posts, in process: the receiver, the processor and a small tickets service behind a fake
bus that lets only a ticket's requester post to it, over an in-memory directory."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from uuid import UUID

import pytest
from hostdesk_contracts.commands import OpenTicket, PostReply
from hostdesk_contracts.directory import AccountKind, AccountRecord, PutAccount, SupportAddressRecord
from hostdesk_contracts.mail import MailResult, MailSource
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_contracts.runtime.blobs import MemoryBlobStore
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_intake.adapters.fake_bus import FakeCommandBus
from hostdesk_intake.adapters.mail_stream import MemoryMailStream
from hostdesk_intake.adapters.memory_counters import MemoryRateCounters
from hostdesk_intake.adapters.threads import MemoryThreads
from hostdesk_intake.domain.commands import SentCommand
from hostdesk_intake.domain.mail import MailLimits
from hostdesk_intake.domain.mail_routing import MailPolicy, guest_id_for
from hostdesk_intake.service_layer.mail_processing import MailProcessor
from hostdesk_intake.service_layer.mail_receiving import MailReceiver

NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
PROVIDER = AccountRecord(id="acme", kind=AccountKind.PROVIDER, display_name="Acme Hosting")
RESELLER = AccountRecord(id="resell-1", kind=AccountKind.RESELLER, parent_id="acme", display_name="Resell")
ADA = AccountRecord(
    id="cust-1042", kind=AccountKind.CUSTOMER, parent_id="resell-1", display_name="Ada", email="ada@example.org"
)
SUPPORT = SupportAddressRecord(address="support@acme.test", organisation_id="acme", department="Billing")
RESELLER_SUPPORT = SupportAddressRecord(address="help@resell.test", organisation_id="resell-1")


class Tickets:
    """A tiny tickets service: a ticket's requester alone may post to it; a put account goes into the directory."""

    def __init__(self, directory: MemoryDirectory) -> None:
        self.directory = directory
        self.requesters: dict[UUID, str] = {}
        self.posts: list[SentCommand] = []
        self.bus = FakeCommandBus(decide=self.decide)

    def decide(self, command: SentCommand) -> CommandOutcome | None:
        if isinstance(command, PutAccount):
            self.directory.put(command.account)
        elif isinstance(command, OpenTicket):
            self.requesters[command.ticket_id] = command.actor.account_id
            self.posts.append(command)
        elif isinstance(command, PostReply):
            if self.requesters.get(command.ticket_id) != command.actor.account_id:
                return CommandOutcome.of(
                    command, ticket_id=command.ticket_id, result="refused", refusal=Refusal.NOT_FOUND
                )
            self.posts.append(command)
        return self.bus._commit(command)


class Mail:
    def __init__(self) -> None:
        self.directory = MemoryDirectory()
        self.directory.put(PROVIDER, RESELLER, ADA, SUPPORT, RESELLER_SUPPORT)
        self.tickets = Tickets(self.directory)
        self.raw = MemoryBlobStore()
        self.files = MemoryBlobStore()
        self.stream = MemoryMailStream()
        self.threads = MemoryThreads()
        self.receiver = MailReceiver(directory=self.directory, store=self.raw, stream=self.stream, clock=lambda: NOW)
        self.processor = MailProcessor(
            directory=self.directory,
            raw_store=self.raw,
            attachments=self.files,
            bus=self.tickets.bus,
            counters=MemoryRateCounters(),
            threads=self.threads,
            stream=self.stream,
            clock=lambda: NOW,
            policy=MailPolicy(
                limits=MailLimits(), per_sender_per_hour=5, system_addresses=frozenset({"noreply@acme.test"})
            ),
        )

    async def deliver(self, raw: bytes, *to: str, return_path: str | None = "sender@example.org") -> list[MailResult]:
        routes = [route for address in to if (route := await self.receiver.route(address)) is not None]
        received = await self.receiver.receive(raw, routes=routes, source=MailSource.SMTP, return_path=return_path)
        return [(await self.processor.process(each, delivery="1")).result for each in received]


def message(
    *,
    sender: str = "ada@example.org",
    subject: str = "VPS down",
    body: str = "vps-1042 does not answer.",
    **headers: str,
) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Ada <{sender}>"
    mail["To"] = "support@acme.test"
    mail["Subject"] = subject
    mail["Message-ID"] = "<m1@example.org>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return mail.as_bytes()


@pytest.fixture
def mail() -> Mail:
    return Mail()


async def test_only_support_addresses_take_mail(mail: Mail) -> None:
    assert await mail.receiver.route("Support@ACME.test") is not None
    assert await mail.receiver.route("support+t100000@acme.test") is not None
    assert await mail.receiver.route("sales@acme.test") is None


async def test_a_known_sender_opens_a_ticket_addressed_to_the_support_address_organisation(mail: Mail) -> None:
    assert await mail.deliver(message(), "support@acme.test") == [MailResult.POSTED]

    [opened] = mail.tickets.posts
    assert isinstance(opened, OpenTicket)
    assert opened.actor.account_id == "cust-1042"
    assert opened.handling_organisation_id == "acme"
    assert opened.department == "Billing"
    assert opened.subject == "VPS down"
    assert "does not answer" in opened.body
    [outcome] = mail.stream.outcomes
    assert outcome.opened
    assert outcome.ticket_id == opened.ticket_id
    assert outcome.sender == "ada@example.org"


async def test_the_same_message_twice_makes_one_ticket(mail: Mail) -> None:
    raw = message()
    await mail.deliver(raw, "support@acme.test")
    relayed = b"Received: from mx2.example.org by mx.acme.test; Sat, 14 Mar 2026 09:27:00 +0000\r\n" + raw

    assert await mail.deliver(relayed, "support@acme.test") == [MailResult.POSTED]
    assert len(mail.tickets.posts) == 1
    assert mail.stream.outcomes[0].ticket_id == mail.stream.outcomes[1].ticket_id


async def test_two_messages_sharing_a_message_id_are_both_kept(mail: Mail) -> None:
    await mail.deliver(message(body="first"), "support@acme.test")
    await mail.deliver(message(body="second, another message under the same Message-ID"), "support@acme.test")

    assert len(mail.tickets.posts) == 2


async def test_a_stranger_becomes_a_guest_under_the_organisation_written_to(mail: Mail) -> None:
    assert await mail.deliver(message(sender="bob@elsewhere.test"), "help@resell.test") == [MailResult.POSTED]

    guest = await mail.directory.principal(guest_id_for("acme", "bob@elsewhere.test"))
    assert isinstance(guest, AccountRecord)
    assert guest.kind is AccountKind.CUSTOMER
    assert guest.parent_id == "resell-1"
    assert guest.email == "bob@elsewhere.test"
    [opened] = mail.tickets.posts
    assert isinstance(opened, OpenTicket)
    assert opened.actor.account_id == guest.id
    assert opened.handling_organisation_id == "resell-1"


async def test_a_reply_threads_by_number_in_the_subject_and_by_the_reply_address(mail: Mail) -> None:
    await mail.deliver(message(), "support@acme.test")
    [opened] = mail.tickets.posts
    number = mail.stream.outcomes[0].number
    assert number is not None
    mail.threads.tickets[("acme", number)] = opened.ticket_id

    by_subject = message(subject=f"Re: [#{number}] VPS down", body="Still down.")
    assert await mail.deliver(by_subject, "support@acme.test") == [MailResult.POSTED]
    by_address = message(subject="no number here", body="And now?")
    assert await mail.deliver(by_address, f"support+t{number}@acme.test") == [MailResult.POSTED]

    replies = [post for post in mail.tickets.posts if isinstance(post, PostReply)]
    assert [reply.ticket_id for reply in replies] == [opened.ticket_id, opened.ticket_id]


async def test_a_reply_threads_by_the_thread_id_of_the_product_s_own_mail(mail: Mail) -> None:
    await mail.deliver(message(), "support@acme.test")
    [opened] = mail.tickets.posts

    reply = message(
        subject="Re: your ticket",
        body="Thanks.",
        In_Reply_To="<a1b2@acme.test>",
        References=f"<ticket-{opened.ticket_id}@acme.test> <a1b2@acme.test>",
    )
    assert await mail.deliver(reply, "support@acme.test") == [MailResult.POSTED]
    assert isinstance(mail.tickets.posts[-1], PostReply)
    assert mail.tickets.posts[-1].ticket_id == opened.ticket_id


async def test_a_reply_to_the_previous_helpdesk_s_mail_threads_into_the_imported_ticket(mail: Mail) -> None:
    await mail.deliver(message(), "support@acme.test")
    [opened] = mail.tickets.posts
    mail.threads.messages[("acme", "whmcs-77-2@old.example")] = opened.ticket_id  # as the threads projector keeps

    reply = message(subject="Re: old", body="Again.", In_Reply_To="<whmcs-77-2@old.example>")
    assert await mail.deliver(reply, "support@acme.test") == [MailResult.POSTED]
    assert isinstance(mail.tickets.posts[-1], PostReply)
    assert mail.tickets.posts[-1].ticket_id == opened.ticket_id


async def test_those_a_new_ticket_s_mail_copied_are_its_cc_but_the_support_addresses(mail: Mail) -> None:
    copied = message(
        Cc="Boss <Boss@Example.org>, help@resell.test, support+t100001@acme.test, noreply@acme.test, ada@example.org"
    )
    copied = copied.replace(b"To: support@acme.test", b"To: support@acme.test, ops@example.org")

    assert await mail.deliver(copied, "support@acme.test") == [MailResult.POSTED]
    [opened] = mail.tickets.posts
    assert isinstance(opened, OpenTicket)
    assert opened.cc == ("ops@example.org", "boss@example.org")


async def test_a_stranger_naming_a_ticket_opens_a_ticket_of_its_own(mail: Mail) -> None:
    await mail.deliver(message(), "support@acme.test")
    [opened] = mail.tickets.posts
    number = mail.stream.outcomes[0].number
    assert number is not None
    mail.threads.tickets[("acme", number)] = opened.ticket_id

    await mail.deliver(
        message(sender="mallory@evil.test", subject=f"Re: [#{number}]", body="let me in"), "support@acme.test"
    )

    last = mail.tickets.posts[-1]
    assert isinstance(last, OpenTicket)
    assert last.ticket_id != opened.ticket_id
    assert last.actor.account_id == guest_id_for("acme", "mallory@evil.test")


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"X_Autoreply": "yes"},
        {"Precedence": "bulk"},
    ],
)
async def test_auto_replies_are_screened_and_recorded(mail: Mail, headers: dict[str, str]) -> None:
    assert await mail.deliver(message(**headers), "support@acme.test") == [MailResult.SCREENED]

    assert mail.tickets.posts == []
    assert mail.stream.outcomes[0].reason


async def test_mail_from_the_product_s_own_address_is_a_loop(mail: Mail) -> None:
    assert await mail.deliver(message(sender="noreply@acme.test"), "support@acme.test") == [MailResult.SCREENED]


async def test_a_flood_from_one_sender_is_screened_past_its_bound(mail: Mail) -> None:
    results = [(await mail.deliver(message(body=f"message {n}"), "support@acme.test"))[0] for n in range(7)]

    assert results == [MailResult.POSTED] * 5 + [MailResult.SCREENED] * 2


async def test_an_unreadable_message_is_quarantined_with_its_bytes(mail: Mail) -> None:
    raw = b"Subject: no sender at all\r\n\r\nbody\r\n"

    assert await mail.deliver(raw, "support@acme.test") == [MailResult.QUARANTINED]
    [outcome] = mail.stream.outcomes
    assert outcome.reason
    assert "read" in outcome.reason
    assert await mail.raw.get("acme", outcome.mail_id) == raw
    assert mail.tickets.posts == []


async def test_files_become_the_post_s_attachments_typed_by_their_bytes(mail: Mail) -> None:
    raw = EmailMessage()
    raw["From"] = "ada@example.org"
    raw["To"] = "support@acme.test"
    raw["Subject"] = "screenshot"
    raw.set_content("see attached")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    raw.add_attachment(png, maintype="application", subtype="pdf", filename="../../invoice.pdf")

    await mail.deliver(raw.as_bytes(), "support@acme.test")

    [opened] = mail.tickets.posts
    assert isinstance(opened, OpenTicket)
    [attachment] = opened.attachments
    assert attachment.media_type == "image/png"
    assert attachment.name == "invoice.pdf"
    assert attachment.size == len(png)
    assert await mail.files.get("acme", attachment.digest) == png
