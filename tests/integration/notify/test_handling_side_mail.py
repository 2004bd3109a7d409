"""The handling side's mail on real PostgreSQL, NATS and SMTP, addressed with the directory bucket as the tickets
service keeps it: a new ticket to a department's members, a customer's reply to the assignee only, a ticket addressed
to a customer at the customer's own address, each member of staff in their own language, and nothing twice."""

from __future__ import annotations

from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.directory import AccountKind, AccountRecord, Language, Record, StaffRecord, StaffRole
from hostdesk_contracts.events import TicketOpened
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.smtp_sink import ReceivedMail, SmtpSink
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_notify.settings import Settings

from tests.integration.notify.harness import NotifyTables, Relay, running_notify
from tests.support import seed_bucket
from tests.unit.notify.builders import REQUESTER_EMAIL

WAIT = 20.0


def agent(tenant: str, name: str, department: str, *, language: Language = Language.EN) -> StaffRecord:
    return StaffRecord(
        id=f"{name}-{tenant}",
        organisation_id=tenant,
        role=StaffRole.AGENT,
        departments=(department,),
        display_name=name.capitalize(),
        email=f"{name}@{tenant}.test",
        language=language,
    )


def provider_of(tenant: str) -> AccountRecord:
    return AccountRecord(id=tenant, kind=AccountKind.PROVIDER, display_name="Demo Hosting", email=f"desk@{tenant}.test")


def requester_of(story: TicketStory, *, parent_id: str, kind: AccountKind = AccountKind.CUSTOMER) -> AccountRecord:
    requester = story.requester
    return AccountRecord(
        id=requester.account_id, kind=kind, parent_id=parent_id, display_name="Jo", email=requester.email
    )


def to(address: str, story: TicketStory) -> object:
    return lambda mail: address in mail.rcpt_tos and f"[#{story.number}]" in mail.subject


def mailed(smtp_sink: SmtpSink, address: str) -> list[ReceivedMail]:
    return smtp_sink.mailbox.matching(lambda mail: address in mail.rcpt_tos)


async def seeded(relay: Relay, subjects: Subjects, *records: Record) -> None:
    """The records in the directory bucket before notify starts, as the tickets service would have put them."""
    await seed_bucket(relay.js, subjects, *records)


def in_billing(story: TicketStory) -> TicketStory:
    story.department = "Billing"
    return story


async def test_a_new_ticket_to_the_providers_billing_department_mails_its_two_agents_and_not_the_technical_one(
    notify_settings: Settings,
    relay: Relay,
    subjects: Subjects,
    smtp_sink: SmtpSink,
    story: TicketStory,
    tables: NotifyTables,
) -> None:
    tenant = story.tenant
    ann, bob, tom = agent(tenant, "ann", "Billing"), agent(tenant, "bob", "Billing"), agent(tenant, "tom", "Technical")
    await seeded(relay, subjects, provider_of(tenant), requester_of(story, parent_id=tenant), ann, bob, tom)
    opened = in_billing(story).opened(body="Invoice 2026-11 is charged twice.", cc=())

    async with running_notify(notify_settings):
        await relay.publish(opened)
        for member in (ann, bob):
            mail = await smtp_sink.mailbox.wait_for_async(to(str(member.email), story), within=WAIT)
            assert "Invoice 2026-11 is charged twice." in mail.body
            assert "member of the Billing department" in mail.body

    outbox = await tables.outbox(story.ticket_id)
    assert sorted(row["recipient"] for row in outbox) == [ann.email, bob.email]  # planned once, all of them
    assert mailed(smtp_sink, str(tom.email)) == []
    assert mailed(smtp_sink, REQUESTER_EMAIL) == []


async def test_a_customer_reply_to_an_assigned_ticket_mails_the_assignee_only(
    notify_settings: Settings,
    relay: Relay,
    subjects: Subjects,
    smtp_sink: SmtpSink,
    story: TicketStory,
    tables: NotifyTables,
) -> None:
    tenant = story.tenant
    ann, bob = agent(tenant, "ann", "Billing"), agent(tenant, "bob", "Billing")
    await seeded(relay, subjects, provider_of(tenant), requester_of(story, parent_id=tenant), ann, bob)
    bob_as_assignee = Actor(account_id=bob.id, tenant=tenant, role=Role.AGENT, display_name="Bob", email=bob.email)
    opened = in_billing(story).opened(cc=())
    assigned = story.assign(Actor(account_id=ann.id, tenant=tenant, role=Role.AGENT), bob_as_assignee)
    reply = story.reply(story.requester, "It is still charged twice.")

    async with running_notify(notify_settings):
        for event in (opened, assigned, reply):
            await relay.publish(event)
        mail = await smtp_sink.mailbox.wait_for_async(
            lambda m: str(bob.email) in m.rcpt_tos and "still charged twice" in m.body, within=WAIT
        )

    assert mail.body.rstrip().endswith("You receive this because the ticket is assigned to you.")
    outbox = await tables.outbox(story.ticket_id)
    assert [row["recipient"] for row in outbox if row["event_id"] == reply.event_id] == [bob.email]
    assert [m for m in mailed(smtp_sink, str(ann.email)) if "still charged twice" in m.body] == []


async def test_a_ticket_a_subaccount_addresses_to_its_customer_mails_the_customers_own_address(
    notify_settings: Settings, relay: Relay, subjects: Subjects, smtp_sink: SmtpSink, tenant: str, tables: NotifyTables
) -> None:
    customer = AccountRecord(
        id=f"cust-{tenant}", kind=AccountKind.CUSTOMER, parent_id=tenant, display_name="Cust", email="owner@cust.test"
    )
    story = TicketStory(account(tenant, Role.SUBACCOUNT, name="Mailbox owner", email="box@cust.test"))
    subaccount = requester_of(story, parent_id=customer.id, kind=AccountKind.SUBACCOUNT)
    await seeded(relay, subjects, provider_of(tenant), agent(tenant, "ann", "Billing"), customer, subaccount)
    opened: TicketOpened = story.opened(body="My mailbox is full.", cc=()).model_copy(
        update={"handling_organisation_id": customer.id}
    )

    async with running_notify(notify_settings):
        await relay.publish(opened)
        mail = await smtp_sink.mailbox.wait_for_async(to("owner@cust.test", story), within=WAIT)

    assert mail.body.startswith(f"Mailbox owner opened ticket #{story.number}:\n\nMy mailbox is full.\n")
    assert "tickets addressed to your account are sent to this address" in mail.body
    assert [row["recipient"] for row in await tables.outbox(story.ticket_id)] == ["owner@cust.test"]


async def test_a_french_member_of_staff_gets_the_french_template_and_an_english_one_the_english(
    notify_settings: Settings, relay: Relay, subjects: Subjects, smtp_sink: SmtpSink, story: TicketStory
) -> None:
    tenant = story.tenant
    ann, bob = agent(tenant, "ann", "Billing", language=Language.FR), agent(tenant, "bob", "Billing")
    await seeded(relay, subjects, provider_of(tenant), requester_of(story, parent_id=tenant), ann, bob)

    async with running_notify(notify_settings):
        await relay.publish(in_billing(story).opened(body="Facture en double.", cc=()))
        french = await smtp_sink.mailbox.wait_for_async(to(str(ann.email), story), within=WAIT)
        english = await smtp_sink.mailbox.wait_for_async(to(str(bob.email), story), within=WAIT)

    assert french.body.startswith(f"{REQUESTER_EMAIL} a ouvert le ticket n° {story.number} :\n\nFacture en double.\n")
    assert "Vous recevez ce message en tant que membre du département Billing" in french.body
    assert french.message["Content-Language"] == "fr"
    assert english.body.startswith(f"{REQUESTER_EMAIL} opened ticket #{story.number}:\n\nFacture en double.\n")
    assert english.message["Content-Language"] == "en"


async def test_a_new_ticket_delivered_twice_mails_each_member_of_staff_once(
    notify_settings: Settings, relay: Relay, subjects: Subjects, smtp_sink: SmtpSink, story: TicketStory, staff: Actor
) -> None:
    tenant = story.tenant
    ann, bob = agent(tenant, "ann", "Billing"), agent(tenant, "bob", "Billing")
    await seeded(relay, subjects, provider_of(tenant), requester_of(story, parent_id=tenant), ann, bob)
    opened = in_billing(story).opened(cc=())
    reply = story.reply(staff, "Refunded.")

    async with running_notify(notify_settings):
        await relay.publish(opened)
        await smtp_sink.mailbox.wait_for_async(to(str(ann.email), story), within=WAIT)
        await relay.publish(opened, msg_id=f"{opened.event_id}:republished")  # a second copy on the stream
        await relay.publish(reply)  # behind the copy: once its mail is in, the copy was handled
        await smtp_sink.mailbox.wait_for_async(to(REQUESTER_EMAIL, story), within=WAIT)

    assert [len(mailed(smtp_sink, str(member.email))) for member in (ann, bob)] == [1, 1]
    assert len(mailed(smtp_sink, REQUESTER_EMAIL)) == 1
