"""The address a ticket's mail is answered at: its handling organisation's support address, tagged with its number."""

from __future__ import annotations

from dataclasses import replace
from email.message import EmailMessage

from hostdesk_contracts.directory import AccountKind, AccountRecord, SupportAddressRecord
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_devtools.stories import TicketStory
from hostdesk_notify.adapters.memory import MemoryStore
from hostdesk_notify.domain.mail import Envelope, compose
from hostdesk_notify.domain.reply_address import support_address_among, tagged
from hostdesk_notify.service_layer.handlers import MailSettings, handle_event
from hostdesk_notify.service_layer.reply_address import reply_address_for

from tests.unit.notify.builders import NOW, PROVIDER, REQUESTER, STAFF, TENANT, contact, mail_of

RESELLER = AccountRecord(id="reseller-1", kind=AccountKind.RESELLER, parent_id=TENANT, display_name="Webs & Co")
CUSTOMER = AccountRecord(id="cust-1", kind=AccountKind.CUSTOMER, parent_id="reseller-1", display_name="Jo")


def address(
    value: str, organisation: str, department: str | None = None, *, retired: bool = False
) -> SupportAddressRecord:
    return SupportAddressRecord(address=value, organisation_id=organisation, department=department, retired=retired)


def test_the_departments_own_address_comes_first_then_the_one_for_no_department() -> None:
    addresses = [address("billing@acme.test", TENANT, "Billing"), address("support@acme.test", TENANT)]
    assert support_address_among(addresses, department="billing") == "billing@acme.test"
    assert support_address_among(addresses, department="Technical") == "support@acme.test"
    assert support_address_among(addresses, department=None) == "support@acme.test"


def test_a_retired_address_is_never_answered_at() -> None:
    addresses = [address("old@acme.test", TENANT, retired=True), address("sales@acme.test", TENANT, "Sales")]
    assert support_address_among(addresses, department=None) == "sales@acme.test"
    assert support_address_among([address("old@acme.test", TENANT, retired=True)], department=None) is None


def test_the_tag_carries_the_ticket_number_and_replaces_any_tag_there_was() -> None:
    assert tagged("support@acme.test", 482913) == "support+t482913@acme.test"
    assert tagged("support+desk@acme.test", 7) == "support+t7@acme.test"
    assert tagged("not an address", 7) == "not an address"


async def test_a_resellers_ticket_is_answered_at_the_resellers_address_and_the_providers_at_its_own() -> None:
    directory = MemoryDirectory()
    directory.put(
        PROVIDER, RESELLER, CUSTOMER, address("support@acme.test", TENANT), address("help@webs.test", "reseller-1")
    )
    ticket = replace(contact(TicketStory(REQUESTER, number=482913)), handling_organisation_id="reseller-1")

    assert await reply_address_for(directory, ticket, installation="desk@hostdesk.test") == "help+t482913@webs.test"
    of_provider = replace(ticket, handling_organisation_id=TENANT)
    assert await reply_address_for(directory, of_provider, installation="desk@hostdesk.test") == (
        "support+t482913@acme.test"
    )


async def test_an_organisation_without_an_address_is_answered_at_its_parents_then_the_installations() -> None:
    directory = MemoryDirectory()
    directory.put(PROVIDER, RESELLER, CUSTOMER, address("support@acme.test", TENANT))
    ticket = replace(contact(TicketStory(REQUESTER, number=5)), handling_organisation_id="reseller-1")
    assert await reply_address_for(directory, ticket, installation="desk@hostdesk.test") == "support+t5@acme.test"

    bare = MemoryDirectory()
    bare.put(PROVIDER, RESELLER)
    assert await reply_address_for(bare, ticket, installation="desk@hostdesk.test") == "desk+t5@hostdesk.test"


async def test_every_mail_of_an_event_carries_the_tickets_reply_address_as_its_reply_to() -> None:
    directory = MemoryDirectory()
    directory.put(PROVIDER, address("support@acme.test", TENANT))
    store, story = MemoryStore(), TicketStory(REQUESTER, number=482913)
    settings = MailSettings(default_language="en", domain="hostdesk.test", support_address="desk@hostdesk.test")
    for event in (story.opened(cc=("boss@example.com",)), story.reply(STAFF)):
        await handle_event(event, store=store, directory=directory, settings=settings, now=NOW)

    [*mails] = [row.mail for row in mail_of(store)]
    assert mails
    assert {mail.reply_to for mail in mails} == {"support+t482913@acme.test"}
    envelope = Envelope(from_address="HostDesk <noreply@hostdesk.test>", reply_to="desk@hostdesk.test")
    message: EmailMessage = compose(mails[0], envelope=envelope, date=NOW)
    assert message["Reply-To"] == "support+t482913@acme.test"
    assert compose(replace(mails[0], reply_to=None), envelope=envelope, date=NOW)["Reply-To"] == "desk@hostdesk.test"
