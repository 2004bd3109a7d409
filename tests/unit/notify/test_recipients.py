from collections.abc import Callable
from typing import Any

import pytest
from hostdesk_contracts.base import Status, Visibility
from hostdesk_contracts.events import TicketEvent
from hostdesk_devtools.stories import TicketStory, every_kind_of_event
from hostdesk_notify.domain.mail import message_id_for
from hostdesk_notify.domain.people import NOBODY_KNOWN
from hostdesk_notify.domain.planning import plan_mails
from hostdesk_notify.domain.recipients import MailKind, handling_side, mail_kind_for, requesting_side

from tests.unit.notify.builders import (
    ASSIGNEE,
    ASSIGNEE_EMAIL,
    REQUESTER,
    REQUESTER_EMAIL,
    STAFF,
    SYSTEM,
    TENANT,
    contact,
)


def _recipients(story: TicketStory, event: TicketEvent, **kept: Any) -> list[str]:
    mails = plan_mails(event, contact(story, **kept), default_language="en", domain="hostdesk.test").mails
    return [mail.recipient for mail in mails]


def test_a_staff_public_reply_mails_the_requester_and_every_cc_recipient() -> None:
    story = TicketStory(REQUESTER)

    recipients = _recipients(story, story.reply(STAFF), cc=("boss@example.com", "ops@example.com"))

    assert recipients == [REQUESTER_EMAIL, "boss@example.com", "ops@example.com"]


def test_an_internal_note_mails_nobody() -> None:
    story = TicketStory(REQUESTER)

    assert _recipients(story, story.reply(STAFF, visibility=Visibility.INTERNAL)) == []


def test_a_customer_reply_mails_nobody_on_the_requesting_side() -> None:
    story = TicketStory(REQUESTER)

    assert _recipients(story, story.reply(REQUESTER)) == []


def test_a_status_change_mails_nobody() -> None:
    story = TicketStory(REQUESTER)

    assert _recipients(story, story.status_change(STAFF, Status.ANSWERED)) == []


def test_a_closed_ticket_mails_the_requester_and_the_cc_recipients() -> None:
    story = TicketStory(REQUESTER)

    recipients = _recipients(story, story.close(STAFF), cc=("boss@example.com",))

    assert recipients == [REQUESTER_EMAIL, "boss@example.com"]


def test_a_requester_without_an_address_leaves_only_the_cc_recipients() -> None:
    story = TicketStory(REQUESTER)

    recipients = _recipients(story, story.reply(STAFF), requester_email=None, cc=("boss@example.com",))

    assert recipients == ["boss@example.com"]


def test_an_address_listed_twice_is_mailed_once() -> None:
    story = TicketStory(REQUESTER)
    kept = contact(story, requester_email="Jo@Example.com", cc=("jo@example.com", "boss@example.com"))

    assert requesting_side(kept) == ("Jo@Example.com", "boss@example.com")


def test_only_public_replies_from_the_handling_side_are_staff_replies() -> None:
    story = TicketStory(REQUESTER)

    assert mail_kind_for(story.reply(STAFF)) is MailKind.STAFF_REPLY
    assert mail_kind_for(story.reply(STAFF, visibility=Visibility.INTERNAL)) is None
    assert mail_kind_for(story.reply(REQUESTER)) is MailKind.CUSTOMER_REPLY


def test_each_recipient_of_an_event_gets_its_own_stable_message_id() -> None:
    story = TicketStory(REQUESTER)
    reply = story.reply(STAFF)

    first = plan_mails(reply, contact(story), default_language="en", domain="hostdesk.test").mails
    again = plan_mails(reply, contact(story), default_language="en", domain="hostdesk.test").mails

    assert [m.message_id for m in first] == [m.message_id for m in again]
    assert len({m.message_id for m in first}) == len(first)
    assert first[0].message_id == message_id_for(reply.event_id, REQUESTER_EMAIL, domain="hostdesk.test")


def test_every_mail_of_a_ticket_refers_to_the_same_thread() -> None:
    story = TicketStory(REQUESTER)
    kept = contact(story)

    reply_mails = plan_mails(story.reply(STAFF), kept, default_language="en", domain="hostdesk.test").mails
    closed_mails = plan_mails(story.close(STAFF), kept, default_language="en", domain="hostdesk.test").mails

    assert {m.thread_id for m in reply_mails + closed_mails} == {f"<ticket-{story.ticket_id}@hostdesk.test>"}


def test_an_address_that_cannot_be_mailed_is_left_out() -> None:
    story = TicketStory(REQUESTER)
    kept = contact(story, requester_email="jo@example.com\r\nBcc: all@example.com", cc=("not an address",))

    assert requesting_side(kept) == ()


def test_a_resolved_ticket_mails_the_requester_and_the_cc_recipients() -> None:
    story = TicketStory(REQUESTER)

    recipients = _recipients(story, story.status_change(STAFF, Status.RESOLVED), cc=("boss@example.com",))

    assert recipients == [REQUESTER_EMAIL, "boss@example.com"]


def test_a_ticket_the_requester_marks_resolved_mails_the_requester_and_no_cc_recipient() -> None:
    story = TicketStory(REQUESTER)

    recipients = _recipients(story, story.status_change(REQUESTER, Status.RESOLVED), cc=("boss@example.com",))

    assert recipients == [REQUESTER_EMAIL]


def test_a_ticket_the_requester_closes_mails_the_requester_and_no_cc_recipient() -> None:
    story = TicketStory(REQUESTER)

    recipients = _recipients(story, story.close(REQUESTER), cc=("boss@example.com", "ops@example.com"))

    assert recipients == [REQUESTER_EMAIL]


def test_what_the_handling_side_does_in_public_mails_the_cc_recipients_too() -> None:
    story = TicketStory(REQUESTER)
    events = [
        story.reply(STAFF),
        story.status_change(STAFF, Status.RESOLVED),
        story.close(SYSTEM, "No reply for 7 days", automatic=True),
        story.close(STAFF),
    ]

    for event in events:
        assert _recipients(story, event, cc=("boss@example.com",)) == [REQUESTER_EMAIL, "boss@example.com"], event.type


def test_a_new_label_of_a_resolved_ticket_mails_nobody() -> None:
    story = TicketStory(REQUESTER)
    relabelled = story.status_change(STAFF, Status.RESOLVED, label="Fixed").model_copy(
        update={"from_status": Status.RESOLVED}
    )

    assert _recipients(story, relabelled) == []


def test_a_status_other_than_resolved_mails_nobody_whatever_its_label() -> None:
    story = TicketStory(REQUESTER)

    assert _recipients(story, story.status_change(STAFF, Status.IN_PROGRESS, label="Validation")) == []


def test_an_automatic_close_mails_the_requester_and_the_cc_recipients_as_such() -> None:
    story = TicketStory(REQUESTER)
    closed = story.close(SYSTEM, "No reply from the requester for 7 days", automatic=True)

    recipients = _recipients(story, closed, cc=("boss@example.com",))

    assert recipients == [REQUESTER_EMAIL, "boss@example.com"]
    assert mail_kind_for(closed) is MailKind.TICKET_AUTO_CLOSED


def test_a_merged_ticket_mails_its_requester_and_cc_recipients() -> None:
    story, target = TicketStory(REQUESTER), TicketStory(REQUESTER, number=500000)

    recipients = _recipients(story, story.merge_into(STAFF, target), cc=("boss@example.com",))

    assert recipients == [REQUESTER_EMAIL, "boss@example.com"]


def test_a_customer_reply_mails_the_assignee_only() -> None:
    story = TicketStory(REQUESTER)

    recipients = _recipients(story, story.reply(REQUESTER), assignee_email=ASSIGNEE_EMAIL)

    assert recipients == [ASSIGNEE_EMAIL]


def test_a_customer_reply_to_a_ticket_whose_assignee_has_no_address_mails_nobody() -> None:
    story = TicketStory(REQUESTER)

    assert _recipients(story, story.reply(REQUESTER), assignee_email=None) == []


def test_an_assignee_address_that_cannot_be_mailed_is_left_out() -> None:
    kept = contact(TicketStory(REQUESTER), assignee_email="kim@hostdesk.test\r\nBcc: all@example.com")

    assert handling_side(kept, NOBODY_KNOWN).recipients == ()


QUIET: dict[str, Callable[[TicketStory], TicketEvent]] = {
    "internal_note": lambda story: story.reply(STAFF, visibility=Visibility.INTERNAL),
    "tags_changed": lambda story: story.tags_change(STAFF, ("vip", "legacy-cluster")),
    "assigned": lambda story: story.assign(STAFF, ASSIGNEE),
    "unassigned": lambda story: story.assign(STAFF, None),
    "cc_changed": lambda story: story.cc_change(REQUESTER, ()),
}


@pytest.mark.parametrize("kind", list(QUIET))
def test_internal_notes_tags_assignment_and_cc_changes_mail_nobody_on_either_side(kind: str) -> None:
    story = TicketStory(REQUESTER)
    event = QUIET[kind](story)

    assert mail_kind_for(event) is None
    assert _recipients(story, event, assignee_email=ASSIGNEE_EMAIL) == []


def test_of_the_whole_lifecycle_only_the_opening_public_replies_resolution_closing_and_merging_mail() -> None:
    kinds = {type(event).__name__: mail_kind_for(event) for event in every_kind_of_event(TENANT).events}

    assert {name for name, kind in kinds.items() if kind is not None} == {
        "TicketOpened",
        "ReplyPosted",
        "StatusChanged",
        "TicketClosed",
        "TicketMerged",
    }
