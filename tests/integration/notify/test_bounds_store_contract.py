"""The in-memory store counts recent mail and keeps suppressed mail as the PostgreSQL one does, and a table made
before the bounds on mail takes suppressed mail once migrated again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import asyncpg
import pytest
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_notify.adapters.memory import MemoryStore
from hostdesk_notify.adapters.ports import DeliveryStatus, NotifyStore
from hostdesk_notify.adapters.postgres import PostgresStore, create_pool
from hostdesk_notify.adapters.schema import migrate, quoted
from hostdesk_notify.domain.bounds import RecentMail, Suppressed
from hostdesk_notify.domain.contacts import TicketContact
from hostdesk_notify.domain.planning import plan_mails

from tests.unit.notify.builders import NOW, REQUESTER, STAFF, TENANT, contact


@pytest.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[NotifyStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    schema = f"notify_{uuid.uuid4().hex[:10]}"
    pool = await create_pool(database_url, schema=schema, max_size=4)
    await migrate(pool, schema=schema)
    yield PostgresStore(pool)
    await pool.close()


def kept(story: TicketStory) -> TicketContact:
    return replace(contact(story), requester_id=story.requester.account_id)


async def mail_a_reply(store: NotifyStore, story: TicketStory, *, at: timedelta, held: bool = False) -> None:
    """A staff reply to the story's ticket handled ``at`` after NOW: its three mails queued, or all held back."""
    if story.version == 0:
        story.opened()
    reply = story.reply(STAFF)
    mails = plan_mails(reply, kept(story), default_language="en", domain="h.test").mails
    async with store.unit_of_work() as unit:
        await unit.save_ticket(kept(story))
        if held:
            await unit.suppress([Suppressed(mail, "over the bound") for mail in mails], now=NOW + at)
        else:
            await unit.queue(mails, now=NOW + at)


async def test_recent_mail_counts_what_was_queued_since_for_the_ticket_and_its_requester(store: NotifyStore) -> None:
    first, second = TicketStory(REQUESTER), TicketStory(REQUESTER)
    stranger = TicketStory(account(TENANT, name=None, email="other@example.org"))
    await mail_a_reply(store, first, at=timedelta(minutes=0))  # before the window
    await mail_a_reply(store, first, at=timedelta(minutes=30))
    await mail_a_reply(store, second, at=timedelta(minutes=40))
    await mail_a_reply(store, second, at=timedelta(minutes=45), held=True)  # held back: not counted
    await mail_a_reply(store, stranger, at=timedelta(minutes=50))

    async with store.unit_of_work() as unit:
        recent = await unit.recent_mail(kept(first), since=NOW + timedelta(minutes=10))

    assert recent == RecentMail(ticket=3, requester=6)


async def test_suppressed_mail_is_logged_with_its_reason_and_never_due(store: NotifyStore) -> None:
    story = TicketStory(REQUESTER)
    await mail_a_reply(store, story, at=timedelta(0), held=True)

    deliveries = await store.deliveries(story.ticket_id, tenant=TENANT, limit=10)
    async with store.claim_due(now=NOW + timedelta(days=1)) as claim:
        due = claim

    assert {(d.status, d.suppressed_reason, d.attempts) for d in deliveries} == {
        (DeliveryStatus.SUPPRESSED, "over the bound", 0)
    }
    assert due is None


async def test_a_table_made_with_three_statuses_takes_suppressed_mail_once_migrated(database_url: str) -> None:
    schema = f"notify_{uuid.uuid4().hex[:10]}"
    admin: asyncpg.Connection = await asyncpg.connect(database_url)
    try:
        await admin.execute(
            f"""CREATE SCHEMA {quoted(schema)};
            CREATE TABLE {quoted(schema)}.outbox (
                event_id text NOT NULL, recipient text NOT NULL, message_id text NOT NULL UNIQUE,
                thread_id text NOT NULL, ticket_id uuid NOT NULL, tenant text NOT NULL, kind text NOT NULL,
                subject text NOT NULL, body text NOT NULL,
                status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
                attempts integer NOT NULL DEFAULT 0, last_error text, created_at timestamptz NOT NULL,
                next_attempt_at timestamptz NOT NULL, sent_at timestamptz, PRIMARY KEY (event_id, recipient))"""
        )
        pool = await create_pool(database_url, schema=schema, max_size=2)
        try:
            await migrate(pool, schema=schema)
            await migrate(pool, schema=schema)  # a second replica, or a restart
            store = PostgresStore(pool)
            story = TicketStory(REQUESTER)
            await mail_a_reply(store, story, at=timedelta(0), held=True)

            deliveries = await store.deliveries(story.ticket_id, tenant=TENANT, limit=10)
        finally:
            await pool.close()
    finally:
        await admin.close()

    assert {d.status for d in deliveries} == {DeliveryStatus.SUPPRESSED}
