from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hostdesk_contracts.base import Status
from hostdesk_contracts.events import TicketEvent
from hostdesk_devtools.stories import TicketStory
from hostdesk_notify.domain.mail import Envelope, compose, mail_domain
from hostdesk_notify.domain.planning import plan_mails

from tests.unit.notify.builders import REQUESTER, STAFF, SYSTEM, contact

ENVELOPE = Envelope(from_address="HostDesk <noreply@hostdesk.test>", reply_to="support@hostdesk.test")
SENT_AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_a_mail_threads_under_its_ticket_and_is_answered_at_the_support_address() -> None:
    story = TicketStory(REQUESTER, number=482913, subject="Website down")
    mail = plan_mails(story.reply(STAFF), contact(story), default_language="en", domain=ENVELOPE.domain).mails[0]

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert message["Subject"] == "[#482913] Website down"
    assert message["Reply-To"] == "support@hostdesk.test"
    assert message["From"] == "HostDesk <noreply@hostdesk.test>"
    assert message["To"] == mail.recipient
    assert message["Message-ID"] == mail.message_id
    assert message["In-Reply-To"] == message["References"] == f"<ticket-{story.ticket_id}@hostdesk.test>"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_mail_says_the_language_it_is_written_in(language: str) -> None:
    story = TicketStory(REQUESTER)
    mail = plan_mails(story.reply(STAFF), contact(story), default_language=language, domain=ENVELOPE.domain).mails[0]

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert (mail.language, message["Content-Language"]) == (language, language)
    assert message.get_content_type() == "text/plain"


def test_a_closure_notice_is_marked_as_automatic_so_that_vacation_replies_stay_quiet() -> None:
    story = TicketStory(REQUESTER)
    mail = plan_mails(story.close(STAFF), contact(story), default_language="en", domain=ENVELOPE.domain).mails[0]

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert message["Auto-Submitted"] == "auto-generated"


NOTICES: dict[str, Callable[[TicketStory], TicketEvent]] = {
    "resolved": lambda story: story.status_change(STAFF, Status.RESOLVED),
    "auto_closed": lambda story: story.close(SYSTEM, "No reply from the requester for 7 days", automatic=True),
    "merged": lambda story: story.merge_into(STAFF, TicketStory(REQUESTER)),
}


@pytest.mark.parametrize("notice", list(NOTICES))
def test_every_notice_of_a_change_is_marked_as_automatic(notice: str) -> None:
    story = TicketStory(REQUESTER)
    event = NOTICES[notice](story)
    mail = plan_mails(event, contact(story), default_language="en", domain=ENVELOPE.domain).mails[0]

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert message["Auto-Submitted"] == "auto-generated"


def test_a_staff_reply_is_not_marked_as_automatic() -> None:
    story = TicketStory(REQUESTER)
    mail = plan_mails(story.reply(STAFF), contact(story), default_language="en", domain=ENVELOPE.domain).mails[0]

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert message["Auto-Submitted"] is None


def test_a_customer_reply_passed_to_the_assignee_is_not_marked_as_automatic() -> None:
    story = TicketStory(REQUESTER)
    kept = contact(story, assignee_email="kim@hostdesk.test")
    [mail] = plan_mails(story.reply(REQUESTER), kept, default_language="en", domain=ENVELOPE.domain).mails

    message = compose(mail, envelope=ENVELOPE, date=SENT_AT)

    assert (message["To"], message["Auto-Submitted"]) == ("kim@hostdesk.test", None)


def test_the_mail_domain_is_the_domain_of_the_sender_address() -> None:
    assert mail_domain("HostDesk <noreply@mail.example.net>") == "mail.example.net"
    assert ENVELOPE.sender == "noreply@hostdesk.test"
