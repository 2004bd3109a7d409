from typing import Any

from hostdesk_contracts.events import TicketEvent
from hostdesk_notify.domain.mail import message_id_for
from hostdesk_notify.domain.planning import plan_mails
from hostdesk_notify.domain.recipients import MailKind, mail_kind_for, requesting_side

from tests.unit.notify.builders import REQUESTER_EMAIL, TicketStory


def _recipients(story: TicketStory, event: TicketEvent, **contact: Any) -> list[str]:
    mails = plan_mails(event, story.contact(**contact), default_language="en", domain="hostdesk.test")
    return [mail.recipient for mail in mails]


def test_a_staff_public_reply_mails_the_requester_and_every_cc_recipient() -> None:
    story = TicketStory()

    recipients = _recipients(story, story.staff_reply(), cc=("boss@example.com", "ops@example.com"))

    assert recipients == [REQUESTER_EMAIL, "boss@example.com", "ops@example.com"]


def test_an_internal_note_mails_nobody() -> None:
    story = TicketStory()

    assert _recipients(story, story.internal_note()) == []


def test_a_customer_reply_mails_nobody_on_the_requesting_side() -> None:
    story = TicketStory()

    assert _recipients(story, story.customer_reply()) == []


def test_a_status_change_mails_nobody() -> None:
    story = TicketStory()

    assert _recipients(story, story.answered()) == []


def test_a_closed_ticket_mails_the_requester_and_the_cc_recipients() -> None:
    story = TicketStory()

    recipients = _recipients(story, story.closed(), cc=("boss@example.com",))

    assert recipients == [REQUESTER_EMAIL, "boss@example.com"]


def test_a_requester_without_an_address_leaves_only_the_cc_recipients() -> None:
    story = TicketStory()

    recipients = _recipients(story, story.staff_reply(), requester_email=None, cc=("boss@example.com",))

    assert recipients == ["boss@example.com"]


def test_an_address_listed_twice_is_mailed_once() -> None:
    story = TicketStory()
    contact = story.contact(requester_email="Jo@Example.com", cc=("jo@example.com", "boss@example.com"))

    assert requesting_side(contact) == ("Jo@Example.com", "boss@example.com")


def test_only_public_replies_from_the_handling_side_are_staff_replies() -> None:
    story = TicketStory()

    assert mail_kind_for(story.staff_reply()) is MailKind.STAFF_REPLY
    assert mail_kind_for(story.internal_note()) is None
    assert mail_kind_for(story.customer_reply()) is None


def test_each_recipient_of_an_event_gets_its_own_stable_message_id() -> None:
    story = TicketStory()
    reply = story.staff_reply()

    first = plan_mails(reply, story.contact(), default_language="en", domain="hostdesk.test")
    again = plan_mails(reply, story.contact(), default_language="en", domain="hostdesk.test")

    assert [m.message_id for m in first] == [m.message_id for m in again]
    assert len({m.message_id for m in first}) == len(first)
    assert first[0].message_id == message_id_for(reply.event_id, REQUESTER_EMAIL, domain="hostdesk.test")


def test_every_mail_of_a_ticket_refers_to_the_same_thread() -> None:
    story = TicketStory()
    contact = story.contact()

    reply_mails = plan_mails(story.staff_reply(), contact, default_language="en", domain="hostdesk.test")
    closed_mails = plan_mails(story.closed(), contact, default_language="en", domain="hostdesk.test")

    assert {m.thread_id for m in reply_mails + closed_mails} == {f"<ticket-{story.ticket_id}@hostdesk.test>"}


def test_an_address_that_cannot_be_mailed_is_left_out() -> None:
    story = TicketStory()
    contact = story.contact(requester_email="jo@example.com\r\nBcc: all@example.com", cc=("not an address",))

    assert requesting_side(contact) == ()
