"""The bounds on mail to the requesting side: per ticket and per requester over a sliding hour, what is over
them kept as suppressed with its reason, the handling side's mail never held back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_notify.adapters.memory import MemoryStore
from hostdesk_notify.adapters.ports import DeliveryStatus
from hostdesk_notify.domain.bounds import MailBounds, RecentMail, within_bounds
from hostdesk_notify.domain.mail import OutgoingMail
from hostdesk_notify.domain.planning import plan_mails
from hostdesk_notify.domain.recipients import MailKind
from hostdesk_notify.service_layer.handlers import Handled, MailSettings, Outcome, handle_event

from tests.unit.notify.builders import ASSIGNEE, CC, NOW, REQUESTER, REQUESTER_EMAIL, STAFF, TENANT, contact

BOUNDS = MailBounds(per_ticket=5, per_requester=8)
SETTINGS = MailSettings(default_language="en", domain="hostdesk.test", bounds=BOUNDS)


def staff_reply_mails(story: TicketStory) -> tuple[OutgoingMail, ...]:
    kept = replace(contact(story), requester_id=REQUESTER.account_id)
    return plan_mails(story.reply(STAFF), kept, default_language="en", domain="hostdesk.test").mails


def test_mail_within_both_bounds_is_all_sent() -> None:
    mails = staff_reply_mails(TicketStory(REQUESTER))

    sent, held = within_bounds(mails, recent=RecentMail(ticket=2, requester=5), bounds=BOUNDS)

    assert (sent, held) == (list(mails), [])


def test_mail_past_the_tickets_bound_is_held_back_requester_first_to_be_sent() -> None:
    mails = staff_reply_mails(TicketStory(REQUESTER))  # the requester, then the two CC recipients

    sent, held = within_bounds(mails, recent=RecentMail(ticket=4, requester=0), bounds=BOUNDS)

    assert [mail.recipient for mail in sent] == [REQUESTER_EMAIL]
    assert [each.mail.recipient for each in held] == list(CC)
    assert {each.reason for each in held} == {"5 mails about this ticket in an hour already"}


def test_mail_past_the_requesters_bound_is_held_back() -> None:
    mails = staff_reply_mails(TicketStory(REQUESTER))

    sent, held = within_bounds(mails, recent=RecentMail(ticket=0, requester=7), bounds=BOUNDS)

    assert len(sent) == 1
    assert {each.reason for each in held} == {"8 mails about this requester's tickets in an hour already"}


def test_a_ticket_kept_without_its_requester_is_bounded_per_ticket_only() -> None:
    story = TicketStory(REQUESTER)
    mails = plan_mails(story.reply(STAFF), contact(story), default_language="en", domain="hostdesk.test").mails

    sent, held = within_bounds(mails, recent=RecentMail(ticket=0, requester=100), bounds=BOUNDS)

    assert (len(sent), held) == (1 + len(CC), [])


def test_mail_to_the_handling_side_is_never_held_back() -> None:
    story = TicketStory(REQUESTER)
    kept = replace(contact(story, assignee_email="kim@hostdesk.test"), requester_id=REQUESTER.account_id)
    mails = plan_mails(story.reply(REQUESTER), kept, default_language="en", domain="hostdesk.test").mails

    sent, held = within_bounds(mails, recent=RecentMail(ticket=99, requester=99), bounds=BOUNDS)

    assert [mail.kind for mail in sent] == [MailKind.CUSTOMER_REPLY]
    assert held == []


async def test_a_tickets_mail_over_its_bound_is_kept_as_suppressed_and_never_due() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    handled = [
        await handle_event(event, store=store, directory=MemoryDirectory(), settings=SETTINGS, now=NOW)
        for event in (story.opened(cc=CC), story.reply(STAFF), story.reply(STAFF))
    ]

    deliveries = await store.deliveries(story.ticket_id, tenant=TENANT, limit=100)

    assert handled[-1] == Handled(Outcome.HANDLED, queued=2, suppressed=1)
    held_back = [d for d in deliveries if d.status is DeliveryStatus.SUPPRESSED and d.recipient]
    assert len(held_back) == 1  # besides the opening's, which the handling side had nobody to mail
    suppressed = held_back[0]
    assert suppressed.suppressed_reason == "5 mails about this ticket in an hour already"
    assert sum(row.status is DeliveryStatus.PENDING for row in store.outbox) == 5
    async with store.claim_due(now=NOW + timedelta(days=1)) as claim:
        assert claim is not None
        assert claim.mail.recipient != suppressed.recipient or claim.mail.event_id != suppressed.event_id


async def test_the_window_slides_mail_of_more_than_an_hour_ago_no_longer_counts() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    await handle_event(story.opened(cc=CC), store=store, directory=MemoryDirectory(), settings=SETTINGS, now=NOW)
    for minutes in (0, 10):
        await handle_event(
            story.reply(STAFF),
            store=store,
            directory=MemoryDirectory(),
            settings=SETTINGS,
            now=NOW + timedelta(minutes=minutes),
        )

    soon = await handle_event(
        story.reply(STAFF), store=store, directory=MemoryDirectory(), settings=SETTINGS, now=NOW + timedelta(minutes=59)
    )
    later = await handle_event(
        story.reply(STAFF), store=store, directory=MemoryDirectory(), settings=SETTINGS, now=NOW + timedelta(minutes=61)
    )

    assert (soon.queued, soon.suppressed) == (0, 3)  # 6 counted: the first two replies' mails
    assert (later.queued, later.suppressed) == (3, 0)  # the first reply's mails are out of the hour


async def test_the_requesters_bound_counts_the_mail_of_all_its_tickets() -> None:
    store = MemoryStore()
    stories = [TicketStory(REQUESTER) for _ in range(3)]
    other = TicketStory(account(TENANT, name=None, email="someone@example.org"))
    results = []
    for story in (*stories, other):
        await handle_event(story.opened(cc=CC), store=store, directory=MemoryDirectory(), settings=SETTINGS, now=NOW)
        results.append(
            await handle_event(story.reply(STAFF), store=store, directory=MemoryDirectory(), settings=SETTINGS, now=NOW)
        )

    assert [(r.queued, r.suppressed) for r in results] == [(3, 0), (3, 0), (2, 1), (3, 0)]


async def test_a_customer_reply_still_reaches_the_assignee_past_every_bound() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    tight = replace(SETTINGS, bounds=MailBounds(per_ticket=0, per_requester=0))
    await handle_event(story.opened(cc=CC), store=store, directory=MemoryDirectory(), settings=tight, now=NOW)
    await handle_event(story.assign(STAFF, ASSIGNEE), store=store, directory=MemoryDirectory(), settings=tight, now=NOW)

    handled = await handle_event(
        story.reply(REQUESTER), store=store, directory=MemoryDirectory(), settings=tight, now=NOW
    )

    assert (handled.queued, handled.suppressed) == (1, 0)
