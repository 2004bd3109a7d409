from hostdesk_contracts.base import Status, Visibility
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_devtools.stories import TicketStory, every_kind_of_event
from hostdesk_notify.adapters.memory import MemoryStore
from hostdesk_notify.adapters.ports import DeliveryStatus
from hostdesk_notify.domain.recipients import MailKind
from hostdesk_notify.service_layer.handlers import Handled, MailSettings, Outcome, handle_event

from tests.unit.notify.builders import (
    ASSIGNEE,
    ASSIGNEE_EMAIL,
    CC,
    NOW,
    REQUESTER,
    REQUESTER_EMAIL,
    STAFF,
    SYSTEM,
    TENANT,
    mail_of,
)

SETTINGS = MailSettings(default_language="en", domain="hostdesk.test")


async def _handle(store: MemoryStore, *events: TicketEvent) -> list[Handled]:
    return [
        await handle_event(event, store=store, directory=MemoryDirectory(), settings=SETTINGS, now=NOW)
        for event in events
    ]


async def test_a_staff_public_reply_queues_one_mail_per_address_of_the_requesting_side() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER, number=482913, subject="Website down")

    await _handle(store, story.opened(cc=CC), story.reply(STAFF))

    assert sorted(row.mail.recipient for row in mail_of(store)) == sorted([REQUESTER_EMAIL, *CC])
    assert {row.mail.subject for row in mail_of(store)} == {"[#482913] Website down"}


async def test_the_same_event_delivered_twice_queues_its_mails_once() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    opened, reply = story.opened(cc=CC), story.reply(STAFF)

    results = await _handle(store, opened, reply, reply)

    assert results[-1] == Handled(Outcome.DUPLICATE)
    assert len(mail_of(store)) == 1 + len(CC)


async def test_an_internal_note_queues_nothing() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)

    await _handle(store, story.opened(cc=CC), story.reply(STAFF, visibility=Visibility.INTERNAL))

    assert mail_of(store) == []


async def test_a_customer_reply_mails_nobody_on_the_requesting_side() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)

    await _handle(store, story.opened(cc=CC), story.reply(REQUESTER))

    assert {row.mail.recipient for row in store.outbox} & {REQUESTER_EMAIL, *CC} == set()


async def test_a_new_ticket_whose_handling_side_the_directory_does_not_hold_is_kept_unsent_with_the_reason() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)

    [handled] = await _handle(store, story.opened(cc=CC))

    assert handled == Handled(Outcome.HANDLED, queued=0, suppressed=1)
    [row] = store.outbox
    assert (row.mail.recipient, row.mail.kind, row.status) == ("", MailKind.NEW_TICKET, DeliveryStatus.SUPPRESSED)
    assert row.suppressed_reason == f"nobody to mail: {TENANT} has no staff and is not in the directory"


async def test_a_reply_to_a_ticket_not_seen_yet_comes_early_and_records_nothing() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    story.opened(cc=CC)  # published, but not delivered yet
    reply = story.reply(STAFF)

    [result] = await _handle(store, reply)

    assert result == Handled(Outcome.EARLY)
    assert reply.event_id not in store.inbox
    assert mail_of(store) == []


async def test_a_reply_tried_again_once_its_ticket_is_seen_queues_its_mails() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    opened, reply = story.opened(cc=CC), story.reply(STAFF)
    await _handle(store, reply)

    results = await _handle(store, opened, reply)

    assert results[-1] == Handled(Outcome.HANDLED, queued=1 + len(CC))


async def test_an_event_that_mails_nobody_also_waits_for_the_events_before_it() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    story.opened(cc=CC)

    [result] = await _handle(store, story.reply(STAFF, visibility=Visibility.INTERNAL))

    assert result == Handled(Outcome.EARLY)


async def test_a_reply_handled_before_a_cc_change_ahead_of_it_waits_and_then_mails_the_new_cc() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    opened, cc_changed, reply = (
        story.opened(cc=CC),
        story.cc_change(REQUESTER, ("new@example.com",)),
        story.reply(STAFF),
    )
    await _handle(store, opened)

    early, *_ = await _handle(store, reply, cc_changed, reply)

    assert early == Handled(Outcome.EARLY)
    assert sorted(row.mail.recipient for row in mail_of(store)) == [REQUESTER_EMAIL, "new@example.com"]


async def test_mail_after_a_cc_change_goes_to_the_new_cc_recipients_only() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)

    await _handle(store, story.opened(cc=CC), story.cc_change(REQUESTER, ("new@example.com",)), story.reply(STAFF))

    assert sorted(row.mail.recipient for row in mail_of(store)) == [REQUESTER_EMAIL, "new@example.com"]


async def test_mail_before_a_cc_change_went_to_the_cc_recipients_of_its_time() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    await _handle(store, story.opened(cc=CC), story.reply(STAFF), story.cc_change(REQUESTER, ()))

    assert sorted(row.mail.recipient for row in mail_of(store)) == sorted([REQUESTER_EMAIL, *CC])


async def test_every_event_type_is_handled_and_none_is_left_waiting() -> None:
    store = MemoryStore()

    results = await _handle(store, *every_kind_of_event(TENANT).events)

    assert {result.outcome for result in results} == {Outcome.HANDLED}


async def test_a_cc_change_tags_and_an_assignment_mail_nobody() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)

    results = await _handle(
        store,
        story.opened(cc=CC),
        story.cc_change(REQUESTER, ("new@example.com",)),
        story.tags_change(STAFF, ("vip", "legacy-cluster")),
        story.assign(STAFF, ASSIGNEE),
    )

    assert [result.queued for result in results] == [0, 0, 0, 0]
    assert mail_of(store) == []


async def test_a_customer_reply_after_an_assignment_mails_the_assignee_only() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)

    await _handle(store, story.opened(cc=CC), story.assign(STAFF, ASSIGNEE), story.reply(REQUESTER, "Still down."))

    assert [row.mail.recipient for row in mail_of(store)] == [ASSIGNEE_EMAIL]
    assert mail_of(store)[0].mail.kind is MailKind.CUSTOMER_REPLY


async def test_a_customer_reply_after_the_ticket_is_unassigned_mails_nobody() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)

    await _handle(
        store, story.opened(cc=CC), story.assign(STAFF, ASSIGNEE), story.assign(STAFF, None), story.reply(REQUESTER)
    )

    assert mail_of(store) == []


async def test_a_resolution_then_a_close_each_mail_the_requesting_side_once() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)

    await _handle(
        store,
        story.opened(cc=CC),
        story.status_change(STAFF, Status.RESOLVED),
        story.close(STAFF),
        story.reopen(REQUESTER),
    )

    assert sorted((row.mail.kind, row.mail.recipient) for row in mail_of(store)) == sorted(
        (kind, address)
        for kind in (MailKind.TICKET_RESOLVED, MailKind.TICKET_CLOSED)
        for address in (REQUESTER_EMAIL, *CC)
    )


async def test_an_answered_ticket_closed_by_itself_mails_the_requesting_side_an_automatic_close() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)

    await _handle(
        store,
        story.opened(cc=()),
        story.reply(STAFF),
        story.status_change(STAFF, Status.ANSWERED),
        story.close(SYSTEM, "No reply from the requester for 7 days", automatic=True),
    )

    assert [row.mail.kind for row in mail_of(store)] == [MailKind.STAFF_REPLY, MailKind.TICKET_AUTO_CLOSED]
