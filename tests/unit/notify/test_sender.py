from dataclasses import replace
from datetime import datetime, timedelta

from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_devtools.stories import TicketStory
from hostdesk_notify.adapters.memory import MemoryMailer, MemoryStore
from hostdesk_notify.adapters.ports import DeliveryFailed, DeliveryStatus
from hostdesk_notify.domain.mail import Envelope
from hostdesk_notify.domain.planning import plan_mails
from hostdesk_notify.domain.retry import RetryPolicy
from hostdesk_notify.service_layer.handlers import MailSettings, handle_event
from hostdesk_notify.service_layer.sender import OutboxSender

from tests.unit.notify.builders import NOW, REQUESTER, REQUESTER_EMAIL, STAFF, contact, mail_of

ENVELOPE = Envelope(from_address="HostDesk <noreply@hostdesk.test>", reply_to="support@hostdesk.test")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def _store_with_one_mail() -> MemoryStore:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    settings = MailSettings(default_language="en", domain=ENVELOPE.domain)
    for event in (story.opened(cc=()), story.reply(STAFF)):
        await handle_event(event, store=store, directory=MemoryDirectory(), settings=settings, now=NOW)
    return store


def _sender(store: MemoryStore, mailer: MemoryMailer, clock: Clock, attempts: int = 3) -> OutboxSender:
    retry = RetryPolicy(max_attempts=attempts, base_delay=10.0, max_delay=100.0)
    return OutboxSender(store=store, mailer=mailer, envelope=ENVELOPE, retry=retry, clock=clock)


async def test_a_pending_mail_is_sent_from_the_installation_address_and_marked_sent() -> None:
    store, mailer, clock = await _store_with_one_mail(), MemoryMailer(), Clock()

    await _sender(store, mailer, clock).send_due()

    [sent] = mailer.sent
    assert (sent.sender, sent.recipient) == ("noreply@hostdesk.test", REQUESTER_EMAIL)
    [row] = mail_of(store)
    assert (row.status, row.attempts, row.sent_at) == (DeliveryStatus.SENT, 1, NOW)


async def test_a_sent_mail_is_not_sent_again() -> None:
    store, mailer, clock = await _store_with_one_mail(), MemoryMailer(), Clock()
    sender = _sender(store, mailer, clock)
    await sender.send_due()

    await sender.send_due()

    assert len(mailer.sent) == 1


async def test_a_failed_send_waits_for_its_backoff_before_the_next_try() -> None:
    store, clock = await _store_with_one_mail(), Clock()
    mailer = MemoryMailer(failures=[DeliveryFailed("connection refused")])
    sender = _sender(store, mailer, clock)
    await sender.send_due()

    await sender.send_due()  # too early: the row waits ten seconds

    [row] = mail_of(store)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.PENDING, 1, "connection refused")
    assert row.next_attempt_at == NOW + timedelta(seconds=10)
    assert mailer.sent == []


async def test_a_failed_send_succeeds_once_its_backoff_is_over_and_the_server_answers() -> None:
    store, clock = await _store_with_one_mail(), Clock()
    mailer = MemoryMailer(failures=[DeliveryFailed("connection refused")])
    sender = _sender(store, mailer, clock)
    await sender.send_due()
    clock.now += timedelta(seconds=10)

    await sender.send_due()

    [row] = mail_of(store)
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    assert len(mailer.sent) == 1


async def test_a_mail_is_dead_after_the_last_allowed_attempt_fails() -> None:
    store, clock = await _store_with_one_mail(), Clock()
    mailer = MemoryMailer(failures=[DeliveryFailed("connection refused") for _ in range(2)])
    sender = _sender(store, mailer, clock, attempts=2)
    await sender.send_due()
    clock.now += timedelta(seconds=10)

    await sender.send_due()

    [row] = mail_of(store)
    assert (row.status, row.attempts) == (DeliveryStatus.DEAD, 2)


async def test_a_mail_the_server_refuses_for_good_is_dead_at_once() -> None:
    store, clock = await _store_with_one_mail(), Clock()
    mailer = MemoryMailer(failures=[DeliveryFailed("550 no such mailbox", permanent=True)])

    await _sender(store, mailer, clock).send_due()

    [row] = mail_of(store)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.DEAD, 1, "550 no such mailbox")


async def test_a_mail_that_cannot_be_written_is_dead_at_once_and_the_sender_goes_on() -> None:
    store, story, clock, mailer = MemoryStore(), TicketStory(REQUESTER), Clock(), MemoryMailer()
    [good] = plan_mails(story.reply(STAFF), contact(story, cc=()), default_language="en", domain=ENVELOPE.domain).mails
    bad = replace(good, event_id="other:1", recipient="jo@example.com\nBcc: all@example.com")
    async with store.unit_of_work() as unit:
        await unit.queue([bad, good], now=NOW)

    await _sender(store, mailer, clock).send_due()

    assert [row.status for row in mail_of(store)] == [DeliveryStatus.DEAD, DeliveryStatus.SENT]
    assert [sent.recipient for sent in mailer.sent] == [REQUESTER_EMAIL]
