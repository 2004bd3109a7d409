"""The in-memory store the unit tests use behaves as the PostgreSQL one does."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_notify.adapters.memory import MemoryStore
from hostdesk_notify.adapters.ports import NotifyStore
from hostdesk_notify.adapters.postgres import PostgresStore, create_pool
from hostdesk_notify.adapters.schema import migrate
from hostdesk_notify.domain.planning import plan_mails

from tests.unit.notify.builders import NOW, REQUESTER, STAFF, contact


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


async def queue_reply(store: NotifyStore, story: TicketStory) -> None:
    story.opened()
    reply = story.reply(STAFF)
    async with store.unit_of_work() as unit:
        await unit.claim_event(reply.event_id)
        await unit.save_ticket(contact(story))
        await unit.queue(
            plan_mails(reply, contact(story, cc=()), default_language="en", domain="h.test").mails, now=NOW
        )


async def test_an_event_is_claimed_once(store: NotifyStore) -> None:
    async with store.unit_of_work() as unit:
        first = await unit.claim_event("t:1")
    async with store.unit_of_work() as unit:
        second = await unit.claim_event("t:1")

    assert (first, second) == (True, False)


async def test_work_of_a_failed_unit_of_work_is_forgotten(store: NotifyStore) -> None:
    story = TicketStory(REQUESTER)

    async def fail_half_way() -> None:
        async with store.unit_of_work() as unit:
            await unit.claim_event("t:1")
            await unit.save_ticket(contact(story))
            raise RuntimeError("the mail server address is missing")

    with pytest.raises(RuntimeError):
        await fail_half_way()

    async with store.unit_of_work() as unit:
        assert await unit.claim_event("t:1") is True
        assert await unit.ticket(story.ticket_id) is None


async def test_a_saved_ticket_reads_back_as_it_was(store: NotifyStore) -> None:
    kept = contact(TicketStory(REQUESTER), assignee_email="kim@hostdesk.test")
    async with store.unit_of_work() as unit:
        await unit.save_ticket(kept)

    async with store.unit_of_work() as unit:
        assert await unit.ticket(kept.ticket_id) == kept


async def test_saving_a_ticket_again_replaces_its_addresses_and_version(store: NotifyStore) -> None:
    kept = contact(TicketStory(REQUESTER), cc=("boss@example.com",), assignee_email="kim@hostdesk.test")
    later = replace(kept, cc=("ops@example.com",), assignee_id=None, assignee_email=None, version=7)
    async with store.unit_of_work() as unit:
        await unit.save_ticket(kept)
    async with store.unit_of_work() as unit:
        await unit.save_ticket(later)

    async with store.unit_of_work() as unit:
        assert await unit.ticket(kept.ticket_id) == later


async def test_a_ticket_kept_before_versions_were_counted_reads_back_without_a_version(database_url: str) -> None:
    schema = f"notify_{uuid.uuid4().hex[:10]}"
    kept = contact(TicketStory(REQUESTER), cc=("boss@example.com",))
    pool = await create_pool(database_url, schema=schema, max_size=2)
    await pool.execute(f"CREATE SCHEMA {schema}; {_TICKETS_BEFORE_VERSIONS.format(schema=schema)}")
    await pool.execute(
        f"INSERT INTO {schema}.tickets (ticket_id, tenant, number, subject, requester_email, cc) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        *(kept.ticket_id, kept.tenant, kept.number, kept.subject, kept.requester_email, ["boss@example.com"]),
    )

    await migrate(pool, schema=schema)
    async with PostgresStore(pool).unit_of_work() as unit:
        read = await unit.ticket(kept.ticket_id)
    await pool.close()

    assert read == replace(kept, version=None)


# The tickets table as notify created it before it counted versions and followed assignment.
_TICKETS_BEFORE_VERSIONS = """
CREATE TABLE {schema}.tickets (
    ticket_id        uuid        PRIMARY KEY,
    tenant           text        NOT NULL,
    number           bigint      NOT NULL,
    subject          text        NOT NULL,
    requester_email  text,
    cc               text[]      NOT NULL DEFAULT '{{}}',
    updated_at       timestamptz NOT NULL DEFAULT now()
);
"""


async def test_a_queued_mail_is_claimed_until_it_is_sent(store: NotifyStore) -> None:
    story = TicketStory(REQUESTER)
    await queue_reply(store, story)

    async with store.claim_due(now=NOW) as claim:
        assert claim is not None
        await claim.sent(at=NOW)
    async with store.claim_due(now=NOW) as again:
        assert again is None
    [delivery] = await store.deliveries(story.ticket_id, tenant=story.tenant, limit=10)
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 1, NOW)


async def test_a_failed_mail_is_not_due_before_its_retry_time(store: NotifyStore) -> None:
    await queue_reply(store, TicketStory(REQUESTER))
    retry_at = NOW + timedelta(seconds=30)
    async with store.claim_due(now=NOW) as claim:
        assert claim is not None
        await claim.failed(error="connection refused", retry_at=retry_at)

    async with store.claim_due(now=NOW + timedelta(seconds=29)) as early:
        assert early is None
    async with store.claim_due(now=retry_at) as due:
        assert due is not None
        assert due.attempts == 1


async def test_a_mail_given_up_is_dead_and_never_due_again(store: NotifyStore) -> None:
    story = TicketStory(REQUESTER)
    await queue_reply(store, story)
    async with store.claim_due(now=NOW) as claim:
        assert claim is not None
        await claim.failed(error="550 no such mailbox", retry_at=None)

    async with store.claim_due(now=NOW + timedelta(days=1)) as later:
        assert later is None
    [delivery] = await store.deliveries(story.ticket_id, tenant=story.tenant, limit=10)
    assert (delivery.status, delivery.last_error) == ("dead", "550 no such mailbox")


async def test_deliveries_are_listed_for_the_tickets_own_tenant_only(store: NotifyStore) -> None:
    story = TicketStory(account("acme"))
    await queue_reply(store, story)

    assert await store.ticket_of_tenant(story.ticket_id, "acme") == contact(story)
    assert await store.ticket_of_tenant(story.ticket_id, "globex") is None
    assert await store.deliveries(story.ticket_id, tenant="globex", limit=10) == []


async def test_a_ticket_is_kept_with_its_requester_handling_organisation_and_department(store: NotifyStore) -> None:
    story = TicketStory(account("acme"))
    story.opened()
    kept = replace(contact(story), requester_id="cust-1", handling_organisation_id="reseller-1", department="Billing")
    async with store.unit_of_work() as unit:
        await unit.save_ticket(kept)
    async with store.unit_of_work() as unit:
        await unit.save_ticket(replace(kept, department="Technical Support", version=2))

    assert await store.ticket_of_tenant(story.ticket_id, "acme") == replace(
        kept, department="Technical Support", version=2
    )


async def test_two_senders_never_hold_the_same_mail(database_url: str) -> None:
    schema = f"notify_{uuid.uuid4().hex[:10]}"
    pool = await create_pool(database_url, schema=schema, max_size=4)
    await migrate(pool, schema=schema)
    store = PostgresStore(pool)
    await queue_reply(store, TicketStory(REQUESTER))

    async with store.claim_due(now=NOW) as first, store.claim_due(now=NOW) as second:
        held = (first is not None, second is not None)
    await pool.close()

    assert held == (True, False)


async def queue_replies(store: NotifyStore, story: TicketStory, count: int) -> None:
    """``count`` staff replies to the ticket, each mailing its requester, queued one event after the other."""
    story.opened()
    for _ in range(count):
        reply = story.reply(STAFF)
        async with store.unit_of_work() as unit:
            await unit.claim_event(reply.event_id)
            await unit.save_ticket(contact(story))
            planned = plan_mails(reply, contact(story, cc=()), default_language="en", domain="h.test").mails
            await unit.queue(planned, now=NOW)


async def test_a_readers_next_mail_of_a_ticket_waits_for_the_one_before_but_other_tickets_do_not(
    store: NotifyStore,
) -> None:
    first_ticket, other_ticket = TicketStory(REQUESTER), TicketStory(REQUESTER)
    await queue_replies(store, first_ticket, 2)
    await queue_replies(store, other_ticket, 1)

    async with store.claim_due(now=NOW) as first:
        assert first is not None
        async with store.claim_due(now=NOW) as beside:
            assert beside is not None
            assert beside.mail.ticket_id != first.mail.ticket_id  # the first ticket's second mail waits
            async with store.claim_due(now=NOW) as none_left:
                assert none_left is None
            await beside.sent(at=NOW)
        await first.sent(at=NOW)
    async with store.claim_due(now=NOW) as next_one:
        assert next_one is not None
        assert next_one.mail.ticket_id == first_ticket.ticket_id
        await next_one.sent(at=NOW)
    sent = await store.deliveries(first_ticket.ticket_id, tenant=first_ticket.tenant, limit=10)
    assert [delivery.status for delivery in sent] == ["sent", "sent"]


async def test_a_mail_waiting_to_be_retried_holds_back_its_readers_next_mail_of_the_ticket(
    store: NotifyStore,
) -> None:
    story = TicketStory(REQUESTER)
    await queue_replies(store, story, 2)
    async with store.claim_due(now=NOW) as claim:
        assert claim is not None
        await claim.failed(error="451 try later", retry_at=NOW + timedelta(seconds=30))

    async with store.claim_due(now=NOW) as held_back:
        assert held_back is None
    async with store.claim_due(now=NOW + timedelta(seconds=30)) as retried:
        assert retried is not None
        assert retried.attempts == 1  # the first mail again, not the second
