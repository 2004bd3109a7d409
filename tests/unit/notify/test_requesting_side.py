"""Mail to the requesting side in the requester's language (its CC recipients too), a ticket the handling side opens
to an account below it, and the handling side's staff named by display name only: never their address."""

from __future__ import annotations

from hostdesk_contracts.base import Role, Side
from hostdesk_contracts.directory import AccountKind, AccountRecord, Language
from hostdesk_contracts.events import TicketEvent, TicketOpened
from hostdesk_contracts.runtime.directory import MemoryDirectory
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_notify.adapters.memory import MemoryStore
from hostdesk_notify.domain.mail import OutgoingMail
from hostdesk_notify.domain.people import People
from hostdesk_notify.domain.planning import plan_mails
from hostdesk_notify.domain.recipients import MailKind
from hostdesk_notify.service_layer.handlers import MailSettings, handle_event

from tests.unit.notify.builders import NOW, PROVIDER, TENANT, contact, directory_of, mail_of, staff_member

REQUESTER = account(TENANT, name="Jo", email="jo@example.com")
CC = ("boss@example.com",)
AGENT = account(TENANT, Role.AGENT, name="Sam Agent", email="sam@acme.test")
NAMELESS_AGENT = account(TENANT, Role.AGENT, name=None, email="nameless@acme.test")


def requester_record(language: Language) -> AccountRecord:
    return AccountRecord(
        id=REQUESTER.account_id,
        kind=AccountKind.CUSTOMER,
        parent_id=TENANT,
        display_name="Jo",
        email=REQUESTER.email,
        language=language,
    )


async def mails(directory: MemoryDirectory, *events: TicketEvent, default_language: str = "en") -> list[OutgoingMail]:
    store, settings = MemoryStore(), MailSettings(default_language=default_language, domain="hostdesk.test")
    for event in events:
        await handle_event(event, store=store, directory=directory, settings=settings, now=NOW)
    return [row.mail for row in mail_of(store)]


def opened_by_the_handling_side(story: TicketStory, by: object, body: str) -> TicketOpened:
    """The handling side opens a ticket to the story's requester (the tickets service records it answered)."""
    opened = story.opened(body=body, cc=CC)
    return opened.model_copy(update={"actor": by, "side": Side.HANDLER})


async def test_a_staff_reply_is_written_in_the_requesters_language_to_the_requester_and_the_cc_recipients() -> None:
    story = TicketStory(REQUESTER)
    directory = directory_of(PROVIDER, requester_record(Language.FR))

    sent = await mails(directory, story.opened(cc=CC), story.reply(AGENT, "Le serveur est relancé."))

    replies = [mail for mail in sent if mail.kind is MailKind.STAFF_REPLY]
    assert {(mail.recipient, mail.language) for mail in replies} == {("jo@example.com", "fr"), (CC[0], "fr")}
    assert all("Répondez à ce message" in mail.body for mail in replies)


async def test_a_requester_the_directory_does_not_hold_is_written_to_in_the_installations_language() -> None:
    story = TicketStory(REQUESTER)

    sent = await mails(MemoryDirectory(), story.opened(cc=()), story.close(AGENT), default_language="fr")

    [closed] = sent
    assert (closed.language, closed.body.startswith("Votre ticket")) == ("fr", True)


async def test_the_requesters_own_language_wins_over_the_installations() -> None:
    story = TicketStory(REQUESTER)
    directory = directory_of(PROVIDER, requester_record(Language.EN))

    sent = await mails(directory, story.opened(cc=()), story.close(AGENT), default_language="fr")

    assert [mail.language for mail in sent if mail.kind is MailKind.TICKET_CLOSED] == ["en"]


async def test_a_ticket_the_handling_side_opens_mails_its_requester_and_cc_and_no_staff() -> None:
    story = TicketStory(REQUESTER)
    directory = directory_of(PROVIDER, requester_record(Language.EN), staff_member("ann", "Technical Support"))

    sent = await mails(directory, opened_by_the_handling_side(story, AGENT, "We will migrate vps-1042 tonight."))

    assert {(mail.recipient, mail.kind) for mail in sent} == {
        ("jo@example.com", MailKind.NEW_TICKET_FOR_REQUESTER),
        (CC[0], MailKind.NEW_TICKET_FOR_REQUESTER),
    }
    assert sent[0].body.startswith(f"Sam Agent opened ticket #{story.number} for you:\n\nWe will migrate vps-1042")


async def test_a_ticket_the_handling_side_opens_is_written_in_the_requesters_language() -> None:
    story = TicketStory(REQUESTER)
    directory = directory_of(PROVIDER, requester_record(Language.FR))

    sent = await mails(directory, opened_by_the_handling_side(story, AGENT, "Migration ce soir."))

    assert {mail.language for mail in sent} == {"fr"}
    assert sent[0].body.startswith(f"Sam Agent a ouvert pour vous le ticket n° {story.number} :")


async def test_the_staff_members_address_never_reaches_the_requesting_side() -> None:
    story = TicketStory(REQUESTER)
    events = (
        opened_by_the_handling_side(story, NAMELESS_AGENT, "Planned maintenance."),
        story.reply(AGENT, "Done."),
        story.close(NAMELESS_AGENT),
    )

    sent = await mails(directory_of(PROVIDER, requester_record(Language.EN)), *events)

    assert sent, "the requesting side was mailed"
    for mail in sent:
        assert "acme.test" not in mail.body + mail.subject, mail.kind
    assert sent[0].body.startswith(f"Our support team opened ticket #{story.number} for you:")


def test_each_address_keeps_its_delivery_id_whatever_language_it_is_written_in() -> None:
    story = TicketStory(REQUESTER)
    reply = story.reply(AGENT)
    kept = contact(story, requester_email="jo@example.com", cc=CC)

    english = plan_mails(reply, kept, people=People(requester=requester_record(Language.EN)), **_PLANNING)
    french = plan_mails(reply, kept, people=People(requester=requester_record(Language.FR)), **_PLANNING)

    assert [(m.recipient, m.message_id) for m in english.mails] == [(m.recipient, m.message_id) for m in french.mails]
    assert [m.language for m in english.mails] == ["en", "en"]
    assert [m.language for m in french.mails] == ["fr", "fr"]


_PLANNING = {"default_language": "en", "domain": "hostdesk.test"}
