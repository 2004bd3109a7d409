"""Mails sent several at once from the PostgreSQL outbox: each once, and a reader's mails of a ticket in order."""

from __future__ import annotations

import asyncio
import random
import uuid
from email.message import EmailMessage

from hostdesk_devtools.stories import TicketStory
from hostdesk_notify.adapters.postgres import PostgresStore, create_pool
from hostdesk_notify.adapters.schema import migrate
from hostdesk_notify.domain.mail import Envelope
from hostdesk_notify.domain.retry import RetryPolicy
from hostdesk_notify.entrypoints.outbox import SendLoop
from hostdesk_notify.service_layer.sender import OutboxSender

from tests.integration.notify.test_store_contract import queue_replies
from tests.support import eventually
from tests.unit.notify.builders import NOW, REQUESTER

TICKETS = 4
REPLIES = 12


class SlowMailer:
    """Takes a few milliseconds a mail, as a server does, and records the order mails arrived in."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (ticket, Message-ID)
        self.in_flight = 0
        self.most_at_once = 0

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        self.in_flight += 1
        self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            await asyncio.sleep(random.uniform(0.002, 0.006))
            self.sent.append((str(message["X-HostDesk-Ticket-Id"]), str(message["Message-ID"])))
        finally:
            self.in_flight -= 1

    async def close(self) -> None:
        pass


async def test_senders_at_once_send_each_mail_once_and_each_readers_mails_in_the_order_queued(
    database_url: str,
) -> None:
    schema = f"notify_{uuid.uuid4().hex[:10]}"
    pool = await create_pool(database_url, schema=schema, max_size=10)
    await migrate(pool, schema=schema)
    store = PostgresStore(pool)
    stories = [TicketStory(REQUESTER) for _ in range(TICKETS)]
    for story in stories:
        await queue_replies(store, story, REPLIES)
    queued = {
        str(story.ticket_id): [
            message_id
            for (message_id,) in await pool.fetch(
                f'SELECT message_id FROM "{schema}".outbox WHERE ticket_id = $1 ORDER BY queued', story.ticket_id
            )
        ]
        for story in stories
    }
    mailer = SlowMailer()
    sender = OutboxSender(
        store=store,
        mailer=mailer,
        envelope=Envelope(from_address="HostDesk <noreply@h.test>", reply_to="support@h.test"),
        retry=RetryPolicy(),
        clock=lambda: NOW,
    )
    loop = SendLoop(sender, sweep_interval=0.05, concurrency=6)
    running = asyncio.create_task(loop.run())
    try:

        async def all_sent() -> bool:
            return len(mailer.sent) >= TICKETS * REPLIES

        await eventually(all_sent, within=30, what="every mail sent")
        await asyncio.sleep(0.2)  # anything sent twice would have come by now
    finally:
        loop.stop()
        await running
        await pool.close()

    assert len(mailer.sent) == TICKETS * REPLIES
    for ticket, message_ids in queued.items():
        assert [sent for of_ticket, sent in mailer.sent if of_ticket == ticket] == message_ids
    assert 1 < mailer.most_at_once <= TICKETS  # at once across tickets, one at a time within a reader's
