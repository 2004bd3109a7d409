"""Ticket events on the stream become mail in a real SMTP server: once each, whatever happens."""

from __future__ import annotations

from hostdesk_contracts.base import Actor, Visibility
from hostdesk_contracts.events import ReplyPosted
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import free_port
from hostdesk_devtools.smtp_sink import ReceivedMail, SmtpSink
from hostdesk_devtools.stories import TicketStory
from hostdesk_notify.adapters.ports import CONSUMER
from hostdesk_notify.settings import Settings

from tests.integration.notify.conftest import SettingsFactory
from tests.integration.notify.harness import NotifyTables, Relay, running_notify
from tests.support import eventually
from tests.unit.notify.builders import CC, REQUESTER_EMAIL

WAIT = 20.0


def about(story: TicketStory) -> str:
    return f"[#{story.number}]"


def addressed_to(recipient: str, story: TicketStory) -> object:
    return lambda mail: recipient in mail.rcpt_tos and about(story) in mail.subject


async def test_a_staff_public_reply_mails_the_requester_once_with_the_ticket_number_in_the_subject(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    opened, reply = story.opened(cc=()), story.reply(staff, "We restarted the web server.")

    async with running_notify(notify_settings):
        await relay.publish(opened)
        await relay.publish(reply)
        mail = await smtp_sink.mailbox.wait_for_async(addressed_to(REQUESTER_EMAIL, story), within=WAIT)

    assert mail.subject == f"[#{story.number}] {story.subject}"
    assert mail.body.startswith("We restarted the web server.")
    assert mail.message["Reply-To"] == f"support+t{story.number}@hostdesk.test"  # the installation's, tagged
    assert mail.message["In-Reply-To"] == f"<ticket-{story.ticket_id}@hostdesk.test>"
    assert len(smtp_sink.mailbox.all()) == 1


async def test_a_staff_public_reply_mails_every_cc_recipient_too(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    async with running_notify(notify_settings):
        await relay.publish(story.opened(cc=CC))
        await relay.publish(story.reply(staff))
        for recipient in (REQUESTER_EMAIL, *CC):
            await smtp_sink.mailbox.wait_for_async(addressed_to(recipient, story), within=WAIT)

    assert sorted(r for mail in smtp_sink.mailbox.all() for r in mail.rcpt_tos) == sorted([REQUESTER_EMAIL, *CC])


async def test_the_same_reply_delivered_again_after_a_restart_mails_nothing_more(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    opened, reply = story.opened(cc=()), story.reply(staff)
    async with running_notify(notify_settings):
        await relay.publish(opened)
        await relay.publish(reply)
        await smtp_sink.mailbox.wait_for_async(addressed_to(REQUESTER_EMAIL, story), within=WAIT)

    await relay.publish(reply)  # inside the duplicate window: JetStream drops it
    await relay.publish(reply, msg_id=f"{reply.event_id}:republished")  # a second copy on the stream
    closed = story.close(staff)  # behind the copies: once its mail is in, the copies were handled
    await relay.publish(closed)
    async with running_notify(notify_settings):
        await smtp_sink.mailbox.wait_for_async(lambda m: "was closed" in m.body, within=WAIT)

    assert len(smtp_sink.mailbox.matching(lambda m: "was closed" not in m.body)) == 1


async def test_an_internal_note_mails_nobody(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    async with running_notify(notify_settings):
        for event in (
            story.opened(cc=CC),
            story.reply(staff, "Customer is on the legacy cluster.", visibility=Visibility.INTERNAL),
            story.close(staff),
        ):
            await relay.publish(event)
        await smtp_sink.mailbox.wait_for_async(lambda m: "was closed" in m.body, within=WAIT)
        await smtp_sink.mailbox.wait_for_async(lambda m: len(smtp_sink.mailbox.all()) == 1 + len(CC), within=WAIT)

    assert smtp_sink.mailbox.matching(lambda m: "legacy cluster" in m.body) == []
    assert all("was closed" in mail.body for mail in smtp_sink.mailbox.all())


async def test_a_customer_reply_mails_nobody_on_the_requesting_side(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    async with running_notify(notify_settings):
        for event in (story.opened(cc=()), story.reply(story.requester, "Still down for me."), story.close(staff)):
            await relay.publish(event)
        await smtp_sink.mailbox.wait_for_async(lambda m: "was closed" in m.body, within=WAIT)

    assert smtp_sink.mailbox.matching(lambda m: "Still down" in m.body) == []


async def test_a_closed_ticket_mails_the_requester_and_the_cc_recipients(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    async with running_notify(notify_settings):
        await relay.publish(story.opened(cc=CC))
        await relay.publish(story.close(staff))
        for recipient in (REQUESTER_EMAIL, *CC):
            mail = await smtp_sink.mailbox.wait_for_async(addressed_to(recipient, story), within=WAIT)
            assert f"Your ticket #{story.number}" in mail.body


async def test_garbage_on_the_stream_is_dead_lettered_and_the_events_behind_it_still_mail(
    notify_settings: Settings,
    relay: Relay,
    smtp_sink: SmtpSink,
    story: TicketStory,
    subjects: Subjects,
    tables: NotifyTables,
    staff: Actor,
) -> None:
    async with running_notify(notify_settings):
        await relay.publish_raw(subjects.event(story.tenant, ReplyPosted), b"{not json", msg_id=f"{story.ticket_id}:x")
        await relay.publish(story.opened(cc=()))
        await relay.publish(story.reply(staff))
        await smtp_sink.mailbox.wait_for_async(addressed_to(REQUESTER_EMAIL, story), within=WAIT)

    [letter] = await tables.dead_letters()
    assert (bytes(letter["payload"]), letter["consumer"]) == (b"{not json", "notify")


async def test_an_event_of_a_type_from_a_newer_publisher_is_passed_over_not_dead_lettered(
    notify_settings: Settings,
    relay: Relay,
    smtp_sink: SmtpSink,
    story: TicketStory,
    subjects: Subjects,
    tables: NotifyTables,
    staff: Actor,
) -> None:
    newer = b'{"type": "ticket.escalated.v1", "event_id": "x"}'
    async with running_notify(notify_settings):
        await relay.publish_raw(
            f"{subjects.root}.events.{story.tenant}.escalated.v1", newer, msg_id=f"{story.ticket_id}:m"
        )
        await relay.publish(story.opened(cc=()))
        await relay.publish(story.reply(staff))
        await smtp_sink.mailbox.wait_for_async(addressed_to(REQUESTER_EMAIL, story), within=WAIT)

    assert await tables.dead_letters() == []


async def test_a_reply_that_arrives_before_its_ticket_mails_once_the_ticket_is_seen(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    opened, reply = story.opened(cc=()), story.reply(staff)

    async with running_notify(notify_settings):
        await relay.publish(reply)
        await relay.publish(opened)
        mail = await smtp_sink.mailbox.wait_for_async(addressed_to(REQUESTER_EMAIL, story), within=WAIT)

    assert about(story) in mail.subject


async def test_a_mail_arrives_after_retries_when_the_mail_server_comes_up_late(
    settings_for: SettingsFactory, relay: Relay, story: TicketStory, tables: NotifyTables, staff: Actor
) -> None:
    port = free_port()  # nothing listens here yet

    opened = story.opened(cc=())
    async with running_notify(settings_for(smtp_port=port)):
        await relay.publish(opened)
        await relay.publish(story.reply(staff))

        async def failed_once() -> bool:
            rows = [row for row in await tables.outbox(story.ticket_id) if row["status"] != "suppressed"]
            return bool(rows) and rows[0]["attempts"] >= 1 and rows[0]["last_error"] is not None

        await eventually(failed_once, within=WAIT)
        with SmtpSink(port=port) as late_sink:
            mail: ReceivedMail = await late_sink.mailbox.wait_for_async(
                addressed_to(REQUESTER_EMAIL, story), within=WAIT
            )

            async def marked_sent() -> bool:
                rows = await tables.outbox(story.ticket_id)
                return [r["status"] for r in rows if r["event_id"] != opened.event_id] == ["sent"]

            await eventually(marked_sent, within=WAIT)

    assert about(story) in mail.subject


async def test_a_reply_whose_opening_died_with_another_replica_still_mails_once_the_opening_comes_back(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, tables: NotifyTables, story: TicketStory, staff: Actor
) -> None:
    """A replica killed while it held the ticket's opening: the opening comes back only after the ack wait,
    and the reply, delivered meanwhile, must wait for it rather than be set aside."""
    opened, reply = story.opened(cc=()), story.reply(staff, "Your VPS is back.")
    durable = notify_settings.durable(
        stream=notify_settings.subjects.events_stream, name=CONSUMER, filter_subject=notify_settings.subjects.all_events
    )
    await relay.js.add_consumer(durable.stream, durable.config())
    await relay.publish(opened)
    await relay.publish(reply)
    dead_replica = await relay.js.pull_subscribe_bind(consumer=CONSUMER, stream=durable.stream)
    [held] = await dead_replica.fetch(batch=1, timeout=5)
    assert held.data == opened.model_dump_json().encode()
    await dead_replica.unsubscribe()  # it dies holding the opening: no ack, no nak

    async with running_notify(notify_settings):
        mail = await smtp_sink.mailbox.wait_for_async(
            addressed_to(REQUESTER_EMAIL, story), within=WAIT + 2 * durable.ack_wait
        )

    assert mail.body.startswith("Your VPS is back.")
    assert await tables.dead_letters() == []
