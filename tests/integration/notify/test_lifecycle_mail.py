"""The ticket's lifecycle beyond replies, on the stream, becomes mail in a real SMTP server: resolution,
automatic close, CC changes, and a customer's reply to the assignee."""

from __future__ import annotations

from hostdesk_contracts.base import Actor, Role, Status
from hostdesk_devtools.smtp_sink import SmtpSink
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_notify.settings import Settings

from tests.integration.notify.conftest import SettingsFactory
from tests.integration.notify.harness import NotifyTables, Relay, running_notify
from tests.integration.notify.test_mail_delivery import WAIT, addressed_to
from tests.support import eventually
from tests.unit.notify.builders import ASSIGNEE_EMAIL, CC, REQUESTER_EMAIL

NEW_CC = "newcomer@example.com"


async def test_a_resolved_ticket_mails_the_requester_its_new_status_by_the_providers_label(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    async with running_notify(notify_settings):
        await relay.publish(story.opened(cc=()))
        await relay.publish(
            story.status_change(staff, Status.RESOLVED, label="Fixed", reason="The DNS zone was corrected.")
        )
        mail = await smtp_sink.mailbox.wait_for_async(addressed_to(REQUESTER_EMAIL, story), within=WAIT)

    assert mail.subject == f"[#{story.number}] {story.subject}"
    assert f'ticket #{story.number} "{story.subject}" is now: Fixed.' in mail.body
    assert "Reason: The DNS zone was corrected." in mail.body
    assert mail.message["Auto-Submitted"] == "auto-generated"


async def test_an_automatic_close_mails_the_requesting_side_why_in_the_installations_language(
    settings_for: SettingsFactory, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    events = [
        story.opened(cc=CC),
        story.reply(staff, "Le serveur a redémarré."),
        story.status_change(staff, Status.ANSWERED),
    ]
    system = account(story.tenant, Role.SYSTEM, name="HostDesk")
    closed = story.close(system, "No reply from the requester for 7 days", automatic=True)

    async with running_notify(settings_for(smtp_port=smtp_sink.port, default_language="fr")):
        for event in (*events, closed):
            await relay.publish(event)
        notices = [
            await smtp_sink.mailbox.wait_for_async(
                lambda m, to=recipient: addressed_to(to, story)(m) and "fermé" in m.body, within=WAIT
            )
            for recipient in (REQUESTER_EMAIL, *CC)
        ]

    for notice in notices:
        assert "a été fermé automatiquement : nous y avions répondu" in notice.body
        assert "Motif : No reply from the requester for 7 days" in notice.body


async def test_a_cc_change_sends_later_mail_to_the_new_cc_recipients_and_earlier_mail_stayed_with_the_old(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, tables: NotifyTables, staff: Actor
) -> None:
    opened, before, change = (
        story.opened(cc=CC),
        story.reply(staff, "First answer."),
        story.cc_change(story.requester, (NEW_CC,)),
    )
    after = story.reply(staff, "Second answer.")

    async with running_notify(notify_settings):
        for event in (opened, before, change):
            await relay.publish(event)
        await eventually(lambda: tables.handled(change.event_id), within=WAIT)
    async with running_notify(notify_settings):  # the CC recipients are kept in PostgreSQL, not in memory
        await relay.publish(after)
        mail = await smtp_sink.mailbox.wait_for_async(lambda m: NEW_CC in m.rcpt_tos, within=WAIT)

    outbox = await tables.outbox(story.ticket_id)
    assert sorted(r["recipient"] for r in outbox if r["event_id"] == before.event_id) == sorted([REQUESTER_EMAIL, *CC])
    assert sorted(r["recipient"] for r in outbox if r["event_id"] == after.event_id) == sorted(
        [REQUESTER_EMAIL, NEW_CC]
    )
    assert mail.body.startswith("Second answer.")


async def test_a_customer_reply_mails_the_assignee_and_nobody_on_the_requesting_side(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, tables: NotifyTables, staff: Actor
) -> None:
    assignee = account(story.tenant, Role.AGENT, name="Kim", email=ASSIGNEE_EMAIL)
    events = (story.opened(cc=CC), story.assign(staff, assignee), story.tags_change(staff, ("vip", "legacy-cluster")))
    reply = story.reply(story.requester, "Still down for me.")

    async with running_notify(notify_settings):
        for event in (*events, reply):
            await relay.publish(event)
        mail = await smtp_sink.mailbox.wait_for_async(addressed_to(ASSIGNEE_EMAIL, story), within=WAIT)

    assert "Still down for me." in mail.body
    outbox = await tables.outbox(story.ticket_id)
    assert [r["recipient"] for r in outbox if r["status"] != "suppressed"] == [ASSIGNEE_EMAIL]
    assert [r["recipient"] for r in outbox if r["event_id"] == reply.event_id] == [ASSIGNEE_EMAIL]


async def test_a_reply_with_nul_characters_is_mailed_and_the_tickets_later_events_still_mail(
    notify_settings: Settings, relay: Relay, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    async with running_notify(notify_settings):
        for event in (
            story.opened(cc=()),
            story.reply(staff, "Log:\x00 disk full"),
            story.status_change(staff, Status.RESOLVED),
        ):
            await relay.publish(event)
        resolved = await smtp_sink.mailbox.wait_for_async(lambda m: "is now: resolved" in m.body, within=WAIT)
        reply = await smtp_sink.mailbox.wait_for_async(lambda m: "disk full" in m.body, within=WAIT)

    assert reply.body.startswith("Log:\ufffd disk full")
    assert addressed_to(REQUESTER_EMAIL, story)(resolved)
