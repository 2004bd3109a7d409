"""Who on the handling side a new ticket and a customer's reply mail, and in which language: the assignee, else the
members of the ticket's department, else all the organisation's staff, else the organisation's own address; nobody
with an address is kept as suppressed with the reason. Through ``handle_event``, with the directory in memory."""

from __future__ import annotations

from hostdesk_contracts.base import Actor, Role
from hostdesk_contracts.directory import AccountKind, AccountRecord, Language, Record, StaffRecord
from hostdesk_contracts.events import TicketEvent, TicketOpened
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_notify.adapters.memory import MemoryStore, OutboxRow
from hostdesk_notify.adapters.ports import DeliveryStatus
from hostdesk_notify.domain.bounds import MailBounds
from hostdesk_notify.domain.recipients import MailKind
from hostdesk_notify.service_layer.handlers import Handled, MailSettings, Outcome, handle_event

from tests.unit.notify.builders import NOW, PROVIDER, TENANT, directory_of, mail_of, staff_member

SETTINGS = MailSettings(default_language="en", domain="hostdesk.test")
CUSTOMER = account(TENANT, name="Jo Customer", email="jo@example.com")
AGENT = account(TENANT, Role.AGENT, name="Sam")
BILLING = ("ann", "bob")


def provider_staff(*more: Record) -> MemoryDirectory:
    """The provider's own account, its two Billing agents and one Technical agent, and ``more``."""
    return directory_of(
        PROVIDER,
        staff_member("ann", "Billing"),
        staff_member("bob", "Billing", "Sales"),
        staff_member("tom", "Technical Support"),
        *more,
    )


def story_in(department: str | None, requester: Actor = CUSTOMER) -> TicketStory:
    story = TicketStory(requester)
    story.department = department
    return story


def as_assignee(staff: StaffRecord) -> Actor:
    """The staff member as the ticket's assignment names it."""
    return Actor(
        account_id=staff.id, tenant=TENANT, role=Role.AGENT, display_name=staff.display_name, email=staff.email
    )


def addressed_to(opened: TicketOpened, organisation_id: str) -> TicketOpened:
    return opened.model_copy(update={"handling_organisation_id": organisation_id})


async def handled(directory: MemoryDirectory, *events: TicketEvent, store: MemoryStore | None = None) -> MemoryStore:
    store = store or MemoryStore()
    for event in events:
        await handle_event(event, store=store, directory=directory, settings=SETTINGS, now=NOW)
    return store


def recipients(store: MemoryStore, kind: MailKind) -> set[str]:
    return {row.mail.recipient for row in mail_of(store) if row.mail.kind is kind}


def unsent(store: MemoryStore) -> list[OutboxRow]:
    return [row for row in store.outbox if row.status is DeliveryStatus.SUPPRESSED]


async def test_a_new_ticket_in_a_department_mails_its_members_and_no_other_staff() -> None:
    story = story_in("Billing")

    store = await handled(provider_staff(), story.opened())

    assert recipients(store, MailKind.NEW_TICKET) == {f"{name}@{TENANT}.test" for name in BILLING}
    assert unsent(store) == []


async def test_a_member_of_staff_disabled_or_without_an_address_is_not_mailed() -> None:
    directory = directory_of(
        PROVIDER,
        staff_member("ann", "Billing"),
        staff_member("bob", "Billing", disabled=True),
        staff_member("cid", "Billing", email=None),
    )

    store = await handled(directory, story_in("Billing").opened())

    assert recipients(store, MailKind.NEW_TICKET) == {f"ann@{TENANT}.test"}


async def test_a_new_ticket_in_a_department_nobody_can_be_mailed_in_goes_to_all_the_staff_with_an_address() -> None:
    directory = directory_of(
        PROVIDER,
        staff_member("ann", "Billing", disabled=True),
        staff_member("tom", "Technical Support"),
        staff_member("sue", email=None),
    )

    store = await handled(directory, story_in("Billing").opened())

    assert recipients(store, MailKind.NEW_TICKET) == {f"tom@{TENANT}.test"}
    assert "support team" in mail_of(store)[0].mail.body


async def test_a_new_ticket_in_no_department_goes_to_all_the_staff_with_an_address() -> None:
    store = await handled(provider_staff(), story_in(None).opened())

    assert recipients(store, MailKind.NEW_TICKET) == {f"{name}@{TENANT}.test" for name in ("ann", "bob", "tom")}
    assert "the ticket is in no department" in mail_of(store)[0].mail.body


async def test_a_new_ticket_names_its_requester_carries_its_message_and_says_why_it_is_sent() -> None:
    story = story_in("Billing")

    store = await handled(provider_staff(), story.opened(body="Invoice 2026-11 is charged twice."))

    mail = mail_of(store)[0].mail
    assert mail.subject == f"[#{story.number}] {story.subject}"
    assert mail.body.startswith(f"Jo Customer opened ticket #{story.number}:\n\nInvoice 2026-11 is charged twice.\n")
    assert "Department: Billing\n" in mail.body
    assert mail.body.endswith(
        "You receive this as a member of the Billing department: nobody is assigned to the ticket.\n"
    )


async def test_a_customer_reply_to_an_assigned_ticket_mails_the_assignee_only() -> None:
    story = story_in("Billing")
    events = (story.opened(), story.assign(AGENT, as_assignee(staff_member("bob"))), story.reply(CUSTOMER))

    store = await handled(provider_staff(), *events)

    assert recipients(store, MailKind.CUSTOMER_REPLY) == {f"bob@{TENANT}.test"}
    reply = next(row.mail for row in mail_of(store) if row.mail.kind is MailKind.CUSTOMER_REPLY)
    assert reply.body.endswith("You receive this because the ticket is assigned to you.\n")


async def test_a_customer_reply_to_a_ticket_whose_assignee_is_disabled_mails_the_department_instead() -> None:
    story = story_in("Billing")
    directory = provider_staff()
    directory.put(staff_member("bob", "Billing", "Sales", disabled=True).model_copy(update={"version": 2}))
    events = (story.opened(), story.assign(AGENT, as_assignee(staff_member("bob"))), story.reply(CUSTOMER))

    store = await handled(directory, *events)

    assert recipients(store, MailKind.CUSTOMER_REPLY) == {f"ann@{TENANT}.test"}


async def test_a_customer_reply_to_a_ticket_nobody_is_assigned_to_mails_the_department() -> None:
    story = story_in("Billing")

    store = await handled(provider_staff(), story.opened(), story.reply(CUSTOMER, "Any news?"))

    assert recipients(store, MailKind.CUSTOMER_REPLY) == {f"{name}@{TENANT}.test" for name in BILLING}


async def test_a_ticket_addressed_to_a_customer_by_its_subaccount_mails_the_customers_own_address() -> None:
    customer = AccountRecord(
        id="cust-1", kind=AccountKind.CUSTOMER, parent_id=TENANT, display_name="Cust", email="owner@cust.example"
    )
    mailbox = account(TENANT, Role.SUBACCOUNT, name="Mailbox owner", email="box@cust.example")
    story = story_in(None, mailbox)
    opened = addressed_to(story.opened(), "cust-1")

    store = await handled(provider_staff(customer), opened, story.reply(mailbox))

    assert recipients(store, MailKind.NEW_TICKET) == {"owner@cust.example"}
    assert recipients(store, MailKind.CUSTOMER_REPLY) == {"owner@cust.example"}
    assert "tickets addressed to your account are sent to this address" in mail_of(store)[0].mail.body


async def test_a_reseller_without_support_staff_gets_its_tickets_at_its_own_address_in_its_language() -> None:
    reseller = AccountRecord(
        id="res-1",
        kind=AccountKind.RESELLER,
        parent_id=TENANT,
        display_name="Revendeur",
        email="contact@res.example",
        language=Language.FR,
    )
    story = story_in("Billing")

    store = await handled(provider_staff(reseller), addressed_to(story.opened(), "res-1"))

    [row] = mail_of(store)
    assert (row.mail.recipient, row.mail.language) == ("contact@res.example", "fr")
    assert row.mail.body.startswith(f"Jo Customer a ouvert le ticket n° {story.number} :")


async def test_a_reseller_with_staff_mails_its_staff_not_its_own_address_nor_the_providers() -> None:
    reseller = AccountRecord(
        id="res-1", kind=AccountKind.RESELLER, parent_id=TENANT, display_name="Res", email="contact@res.example"
    )
    directory = provider_staff(reseller)
    directory.put(staff_member("rita", "Billing", organisation="res-1"))

    store = await handled(directory, addressed_to(story_in("Billing").opened(), "res-1"))

    assert recipients(store, MailKind.NEW_TICKET) == {"rita@res-1.test"}


async def test_an_organisation_without_staff_or_address_keeps_the_mail_unsent_with_the_reason() -> None:
    customer = AccountRecord(id="cust-1", kind=AccountKind.CUSTOMER, parent_id=TENANT, display_name="Cust")
    story = story_in(None)

    store = await handled(directory_of(PROVIDER, customer), addressed_to(story.opened(), "cust-1"))

    assert mail_of(store) == []
    [row] = unsent(store)
    assert (row.mail.recipient, row.mail.kind) == ("", MailKind.NEW_TICKET)
    assert row.suppressed_reason == "nobody to mail: cust-1 has no staff and no notification address"


async def test_staff_none_of_whom_can_be_mailed_keep_the_mail_unsent_with_the_reason() -> None:
    directory = directory_of(PROVIDER, staff_member("ann", "Billing", email=None), staff_member("tom", disabled=True))

    store = await handled(directory, story_in("Billing").opened())

    [row] = unsent(store)
    assert (
        row.suppressed_reason
        == f"nobody to mail: no member of the staff of {TENANT} can be mailed (no address, or disabled)"
    )


async def test_each_member_of_staff_is_written_to_in_their_own_language() -> None:
    directory = directory_of(
        PROVIDER, staff_member("ann", "Billing", language=Language.FR), staff_member("bob", "Billing")
    )
    story = story_in("Billing")

    store = await handled(directory, story.opened())

    by_recipient = {row.mail.recipient: row.mail for row in mail_of(store)}
    french, english = by_recipient[f"ann@{TENANT}.test"], by_recipient[f"bob@{TENANT}.test"]
    assert (french.language, english.language) == ("fr", "en")
    assert french.body.startswith(f"Jo Customer a ouvert le ticket n° {story.number} :")
    assert "membre du département Billing" in french.body
    assert english.body.startswith(f"Jo Customer opened ticket #{story.number}:")


async def test_the_same_new_ticket_handled_twice_mails_nobody_twice() -> None:
    directory, story = provider_staff(), story_in("Billing")
    opened = story.opened()
    store = await handled(directory, opened)

    again = await handle_event(opened, store=store, directory=directory, settings=SETTINGS, now=NOW)

    assert again == Handled(Outcome.DUPLICATE)
    assert sorted(row.mail.recipient for row in store.outbox) == sorted(f"{name}@{TENANT}.test" for name in BILLING)


async def test_a_directory_change_after_the_event_does_not_readdress_its_mail() -> None:
    directory, story = provider_staff(), story_in("Billing")
    opened = story.opened()
    store = await handled(directory, opened)
    directory.put(staff_member("cid", "Billing"))

    await handled(directory, opened, store=store)

    assert recipients(store, MailKind.NEW_TICKET) == {f"{name}@{TENANT}.test" for name in BILLING}


async def test_a_new_ticket_mailed_to_staff_is_never_held_back_by_the_bounds_on_mail() -> None:
    tight = MailSettings(
        default_language="en", domain="hostdesk.test", bounds=MailBounds(per_ticket=1, per_requester=1)
    )
    store = MemoryStore()

    result = await handle_event(
        story_in("Billing").opened(), store=store, directory=provider_staff(), settings=tight, now=NOW
    )

    assert result == Handled(Outcome.HANDLED, queued=2, suppressed=0)
