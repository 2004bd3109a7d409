from datetime import UTC, datetime

import pytest
from hostdesk_notify.domain.mail import Envelope, compose, mail_domain
from hostdesk_notify.domain.planning import plan_mails

from tests.unit.notify.builders import TicketStory

ENVELOPE = Envelope(from_address="HostDesk <noreply@hostdesk.test>", reply_to="support@hostdesk.test")
SENT_AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_a_mail_threads_under_its_ticket_and_is_answered_at_the_support_address() -> None:
    story = TicketStory(number=482913)
    mail = plan_mails(story.staff_reply(), story.contact(), default_language="en", domain=ENVELOPE.domain)[0]

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert message["Subject"] == "[#482913] Website down"
    assert message["Reply-To"] == "support@hostdesk.test"
    assert message["From"] == "HostDesk <noreply@hostdesk.test>"
    assert message["To"] == mail.recipient
    assert message["Message-ID"] == mail.message_id
    assert message["In-Reply-To"] == message["References"] == f"<ticket-{story.ticket_id}@hostdesk.test>"


def test_a_closure_notice_is_marked_as_automatic_so_that_vacation_replies_stay_quiet() -> None:
    story = TicketStory()
    mail = plan_mails(story.closed(), story.contact(), default_language="en", domain=ENVELOPE.domain)[0]

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert message["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize("notice", ["resolved", "auto_closed", "merged"])
def test_every_notice_of_a_change_is_marked_as_automatic(notice: str) -> None:
    story = TicketStory()
    event = story.merged_into(TicketStory()) if notice == "merged" else getattr(story, notice)()
    mail = plan_mails(event, story.contact(), default_language="en", domain=ENVELOPE.domain)[0]

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert message["Auto-Submitted"] == "auto-generated"


def test_a_staff_reply_is_not_marked_as_automatic() -> None:
    story = TicketStory()
    mail = plan_mails(story.staff_reply(), story.contact(), default_language="en", domain=ENVELOPE.domain)[0]

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert message["Auto-Submitted"] is None


def test_a_customer_reply_passed_to_the_assignee_is_not_marked_as_automatic() -> None:
    story = TicketStory()
    contact = story.contact(assignee_email="kim@hostdesk.test")
    [mail] = plan_mails(story.customer_reply(), contact, default_language="en", domain=ENVELOPE.domain)

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert (message["To"], message["Auto-Submitted"]) == ("kim@hostdesk.test", None)


def test_the_mail_domain_is_the_domain_of_the_sender_address() -> None:
    assert mail_domain("HostDesk <noreply@mail.example.net>") == "mail.example.net"
    assert ENVELOPE.sender == "noreply@hostdesk.test"
