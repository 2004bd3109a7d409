"""Notify, on real PostgreSQL, NATS and an SMTP server, is no mail relay: CC recipients hear only of what staff do,
and mail past the bounds per ticket and per requester is held back, shown as suppressed in the delivery log."""

from __future__ import annotations

from typing import Any

import httpx
from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.events import TicketEvent
from hostdesk_devtools.smtp_sink import SmtpSink
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_notify.domain.bounds import MailBounds
from hostdesk_notify.settings import Settings

from tests.integration.notify.harness import NotifyTables, Relay, bearer, running_notify
from tests.integration.notify.test_mail_delivery import WAIT, addressed_to
from tests.support import BucketCallers, eventually
from tests.unit.notify.builders import REQUESTER_EMAIL

STRANGERS = tuple(f"stranger{n}@example.org" for n in range(5))
STAFF_CC = tuple(f"team{n}@example.com" for n in range(20))  # as many as staff may set


async def deliveries(client: httpx.AsyncClient, story: TicketStory, callers: BucketCallers) -> list[dict[str, Any]]:
    """The ticket's delivery log of mail to someone (not its opening's, which its handling side, nobody the
    directory holds, had no one to be sent to); none while notify has not seen the ticket yet."""
    answer = await client.get(
        "/v1/deliveries", params={"ticket_id": str(story.ticket_id)}, headers=await bearer(callers, tenant=story.tenant)
    )
    if answer.status_code == 404:
        return []
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["deliveries"]
    return [delivery for delivery in found if delivery["recipient"]]


async def publish_all(relay: Relay, events: list[TicketEvent]) -> None:
    for event in events:
        await relay.publish(event)


async def test_a_customer_closing_and_reopening_its_ticket_mails_none_of_its_cc_recipients(
    notify_settings: Settings,
    relay: Relay,
    smtp_sink: SmtpSink,
    story: TicketStory,
    tables: NotifyTables,
    staff: Actor,
    callers: BucketCallers,
) -> None:
    requester = story.requester
    events = [story.opened(cc=STRANGERS), story.close(requester), story.reopen(requester)]
    events += [story.reply(requester, "Reopened."), story.close(requester), story.reply(staff, "Here is the fix.")]

    async with running_notify(notify_settings):
        await publish_all(relay, events)
        answer = await smtp_sink.mailbox.wait_for_async(
            lambda m: STRANGERS[0] in m.rcpt_tos and "Here is the fix." in m.body, within=WAIT
        )
        await eventually(lambda: tables.handled(events[-1].event_id), within=WAIT)

    outbox = await tables.outbox(story.ticket_id)
    by_event = {
        event.event_id: sorted(r["recipient"] for r in outbox if r["event_id"] == event.event_id) for event in events
    }
    assert by_event[events[1].event_id] == by_event[events[4].event_id] == [REQUESTER_EMAIL]  # its own closes
    assert by_event[events[-1].event_id] == sorted([REQUESTER_EMAIL, *STRANGERS])  # staff's answer
    strangers_mail = smtp_sink.mailbox.matching(lambda m: any(s in m.rcpt_tos for s in STRANGERS))
    assert all("Here is the fix." in mail.body for mail in strangers_mail)
    assert answer.subject == f"[#{story.number}] {story.subject}"


async def test_mail_past_a_tickets_hourly_bound_is_not_sent_and_shows_as_suppressed(
    notify_settings: Settings,
    relay: Relay,
    smtp_sink: SmtpSink,
    story: TicketStory,
    staff: Actor,
    callers: BucketCallers,
) -> None:
    per_ticket = MailBounds().per_ticket
    opened = story.opened(cc=STAFF_CC)
    replies = [story.reply(staff, f"Answer {n}.") for n in range(3)]  # 3 x 21 mails: 63 against a bound of 60

    async with running_notify(notify_settings) as client:
        await publish_all(relay, [opened, *replies])

        async def settled() -> bool:
            statuses = [d["status"] for d in await deliveries(client, story, callers)]
            last[:] = statuses
            return len(statuses) == 3 * (1 + len(STAFF_CC)) and "pending" not in statuses

        last: list[str] = []

        await eventually(settled, within=WAIT * 2, what=lambda: f"every mail sent or held back, saw {sorted(last)}")
        log = await deliveries(client, story, callers)

    suppressed = [d for d in log if d["status"] == "suppressed"]
    assert len(suppressed) == 3 * (1 + len(STAFF_CC)) - per_ticket == 3
    assert {d["event_id"] for d in suppressed} == {replies[-1].event_id}
    assert {d["suppressed_reason"] for d in suppressed} == {f"{per_ticket} mails about this ticket in an hour already"}
    assert all(d["attempts"] == 0 and d["sent_at"] is None for d in suppressed)
    assert REQUESTER_EMAIL not in {d["recipient"] for d in suppressed}  # the requester is mailed first
    for held in suppressed:
        assert (
            smtp_sink.mailbox.matching(lambda m, to=held["recipient"]: to in m.rcpt_tos and "Answer 2." in m.body) == []
        )
    assert smtp_sink.mailbox.matching(addressed_to(REQUESTER_EMAIL, story))


async def test_mail_past_a_requesters_hourly_bound_across_its_tickets_is_suppressed(
    notify_settings: Settings, relay: Relay, tenant: str, staff: Actor, callers: BucketCallers
) -> None:
    per_requester = MailBounds().per_requester
    requester = account(tenant, Role.CUSTOMER, name=None, email=REQUESTER_EMAIL)
    stories = [TicketStory(requester) for _ in range(per_requester // (1 + len(STAFF_CC)) + 1)]  # 15 tickets: 315
    other = TicketStory(account(tenant, Role.CUSTOMER, name=None, email="other@example.net"))

    async with running_notify(notify_settings) as client:
        for each in (*stories, other):
            await publish_all(relay, [each.opened(cc=STAFF_CC), each.reply(staff, "Maintenance tonight.")])

        async def logged() -> bool:
            """Every ticket's reply handled: different tickets are handled at the same time, in any order."""
            counts = [len(await deliveries(client, each, callers)) for each in (*stories, other)]
            return counts == [1 + len(STAFF_CC)] * len(counts)

        await eventually(logged, within=WAIT * 2)
        logs = [await deliveries(client, each, callers) for each in stories]
        others = await deliveries(client, other, callers)

    suppressed = [d for log in logs for d in log if d["status"] == "suppressed"]
    assert len(suppressed) == len(stories) * (1 + len(STAFF_CC)) - per_requester
    assert {d["suppressed_reason"] for d in suppressed} == {
        f"{per_requester} mails about this requester's tickets in an hour already"
    }
    assert all(d["status"] != "suppressed" for d in others)  # another requester's mail is its own count
