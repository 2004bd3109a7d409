"""An SMTP outage in the middle of a burst of replies: mail is delayed, none is lost, none sent twice, and each
ticket's mails reach its reader in the order the replies were posted."""

from __future__ import annotations

import asyncio

from hostdesk_contracts.base import Actor
from hostdesk_devtools.servers import free_port
from hostdesk_devtools.smtp_sink import SmtpSink
from hostdesk_devtools.stories import TicketStory, account

from tests.integration.notify.conftest import SettingsFactory
from tests.integration.notify.harness import NotifyTables, Relay, running_notify
from tests.support import eventually

TICKETS = 5
REPLIES = 6  # to each ticket: half before the outage, half during it
WAIT = 30.0


async def test_mail_of_a_burst_is_held_through_an_smtp_outage_and_sent_once_each_in_order(
    settings_for: SettingsFactory, relay: Relay, tables: NotifyTables, tenant: str, staff: Actor
) -> None:
    port = free_port()
    stories = [TicketStory(account(tenant, name=None, email=f"customer-{n}@example.com")) for n in range(TICKETS)]
    settings = settings_for(smtp_port=port, max_send_attempts=100, send_concurrency=4)
    body = "Reply {k} to ticket {number}."

    async def burst(replies: range) -> None:
        for k in replies:
            for story in stories:
                await relay.publish(story.reply(staff, body.format(k=k, number=story.number)))

    before = SmtpSink(port=port).start()
    stopped = False
    try:
        async with running_notify(settings):
            for story in stories:
                await relay.publish(story.opened(cc=()))
            await burst(range(REPLIES // 2))

            async def some_sent() -> bool:
                return bool(before.mailbox.all())

            await eventually(some_sent, within=WAIT, what="the first mails before the outage")
            before.stop()  # the outage, in the middle of the burst
            stopped = True

            await burst(range(REPLIES // 2, REPLIES))

            async def failing() -> bool:
                rows = [row for story in stories for row in await tables.outbox(story.ticket_id)]
                return any(row["last_error"] for row in rows if row["status"] == "pending")

            await eventually(failing, within=WAIT, what="a mail failing while the server is away")
            with SmtpSink(port=port) as after:

                async def all_sent() -> bool:
                    rows = [row for story in stories for row in await tables.outbox(story.ticket_id)]
                    replies = [row for row in rows if row["status"] != "suppressed"]
                    return len(replies) == TICKETS * REPLIES and all(row["status"] == "sent" for row in replies)

                await eventually(all_sent, within=WAIT, what="every mail sent once the server is back")
                await asyncio.sleep(0.5)  # a mail sent twice would have come by now
                received = [*before.mailbox.all(), *after.mailbox.all()]
    finally:
        if not stopped:
            before.stop()

    assert len(received) == TICKETS * REPLIES
    assert len({mail.message["Message-ID"] for mail in received}) == TICKETS * REPLIES
    for story in stories:
        of_ticket = [mail.body.splitlines()[0] for mail in received if f"[#{story.number}]" in mail.subject]
        assert of_ticket == [body.format(k=k, number=story.number) for k in range(REPLIES)]
