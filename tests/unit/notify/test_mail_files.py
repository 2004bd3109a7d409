"""The files of a post in the mail about it: attached within the bound, named (with a link) beyond it."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from hostdesk_contracts.attachments import Attachment
from hostdesk_contracts.events import ReplyPosted
from hostdesk_contracts.runtime.blobs import MemoryBlobStore, digest_of
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_devtools.stories import TicketStory
from hostdesk_notify.adapters.memory import MemoryMailer, MemoryStore
from hostdesk_notify.adapters.ports import DeliveryStatus
from hostdesk_notify.domain.retry import RetryPolicy
from hostdesk_notify.service_layer.handlers import MailSettings, handle_event
from hostdesk_notify.service_layer.sender import FilePolicy, OutboxSender
from hostdesk_notify.settings import Settings
from pydantic import ValidationError

from tests.unit.notify.builders import NOW, REQUESTER, STAFF, TENANT, mail_of
from tests.unit.notify.test_sender import ENVELOPE, Clock

LOG = b"php-fpm[1042]: server reached pm.max_children setting (5)\n" * 20
CONF = b"pm.max_children = 40\n"


def file(name: str, data: bytes, media_type: str = "text/plain") -> Attachment:
    return Attachment(
        id=f"att_{digest_of(data)[:32]}", name=name, media_type=media_type, size=len(data), digest=digest_of(data)
    )


async def reply_with(*files: Attachment) -> tuple[MemoryStore, TicketStory]:
    store, story = MemoryStore(), TicketStory(REQUESTER, number=482913)
    settings = MailSettings(default_language="en", domain=ENVELOPE.domain)
    opened = story.opened(cc=())
    reply: ReplyPosted = story.reply(STAFF, "The pool was too small; see the files.")
    for event in (opened, reply.model_copy(update={"attachments": files})):
        await handle_event(event, store=store, directory=MemoryDirectory(), settings=settings, now=NOW)
    return store, story


async def stored(*contents: bytes) -> MemoryBlobStore:
    blobs = MemoryBlobStore()
    for data in contents:
        await blobs.put(TENANT, data)
    return blobs


def sender(store: MemoryStore, mailer: MemoryMailer, blobs: MemoryBlobStore, **policy: object) -> OutboxSender:
    return OutboxSender(
        store=store,
        mailer=mailer,
        envelope=ENVELOPE,
        retry=RetryPolicy(max_attempts=3, base_delay=10.0),
        clock=Clock(),
        blobs=blobs,
        files=FilePolicy(**policy),  # type: ignore[arg-type]
    )


def attached(message: EmailMessage) -> dict[str, bytes]:
    return {str(part.get_filename()): part.get_content() for part in message.iter_attachments()}


async def test_the_files_of_a_staff_reply_go_with_its_mail() -> None:
    store, _ = await reply_with(file("php-fpm.log", LOG), file("www.conf", CONF))
    mailer = MemoryMailer()

    await sender(store, mailer, await stored(LOG, CONF)).send_due()

    [sent] = mailer.sent
    files = attached(sent.message)
    assert files == {"php-fpm.log": LOG.decode(), "www.conf": CONF.decode()}
    assert "on the ticket's page" not in str(sent.message.get_body(("plain",)).get_content())


async def test_files_past_the_bound_are_named_with_their_link_instead() -> None:
    store, story = await reply_with(file("www.conf", CONF), file("php-fpm.log", LOG))
    mailer = MemoryMailer()
    link = "https://help.acme.test/tickets/{ticket_id}/files/{attachment_id}"

    await sender(store, mailer, await stored(LOG, CONF), max_bytes=len(CONF) + 10, link=link).send_due()

    [sent] = mailer.sent
    assert set(attached(sent.message)) == {"www.conf"}
    body = str(sent.message.get_body(("plain",)).get_content())
    log = file("php-fpm.log", LOG)
    assert "Files of this message on the ticket's page:" in body
    assert f"- php-fpm.log (1.1 KB): https://help.acme.test/tickets/{story.ticket_id}/files/{log.id}" in body


async def test_a_mail_waits_while_its_files_cannot_be_read_and_goes_with_them_after() -> None:
    store, _ = await reply_with(file("www.conf", CONF))
    mailer, blobs = MemoryMailer(), await stored(CONF)
    blobs.reachable = False
    mailing = sender(store, mailer, blobs)

    await mailing.send_due()
    [row] = mail_of(store)
    assert (row.status, row.attempts, mailer.sent) == (DeliveryStatus.PENDING, 1, [])
    assert "cannot be read" in str(row.last_error)

    blobs.reachable = True
    assert isinstance(mailing.clock, Clock)
    mailing.clock.now = row.next_attempt_at
    await mailing.send_due()
    [sent] = mailer.sent
    assert set(attached(sent.message)) == {"www.conf"}


async def test_a_file_no_longer_in_the_store_is_named_and_the_mail_still_goes() -> None:
    store, _ = await reply_with(file("www.conf", CONF))
    mailer = MemoryMailer()

    await sender(store, mailer, MemoryBlobStore()).send_due()

    [sent] = mailer.sent
    assert attached(sent.message) == {}
    assert "- www.conf (21 B)" in str(sent.message.get_body(("plain",)).get_content())


def test_a_file_link_naming_anything_else_is_refused_at_start() -> None:
    good = "https://help.acme.test/tickets/{ticket_id}/files/{attachment_id}"
    secret = {"HOSTDESK_JWT_SECRET": "s" * 32}
    assert Settings(**secret, file_link=good).file_link == good
    with pytest.raises(ValidationError, match="ticket_id"):
        Settings(**secret, file_link="https://help.acme.test/{user}")
