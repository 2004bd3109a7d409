from dataclasses import replace

from hostdesk_contracts.base import Priority, Role, Visibility
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_notify.domain.contacts import Step, contact_after, contact_from_opened, step_for

from tests.unit.notify.builders import ASSIGNEE, ASSIGNEE_EMAIL, CC, REQUESTER, STAFF, TENANT


def test_a_tickets_opening_is_applied_when_notify_knows_nothing_of_it() -> None:
    assert step_for(None, TicketStory(REQUESTER).opened()) is Step.APPLY


def test_any_other_event_of_a_ticket_not_seen_opened_comes_early() -> None:
    story = TicketStory(REQUESTER)
    story.opened()

    assert step_for(None, story.reply(STAFF, visibility=Visibility.INTERNAL)) is Step.EARLY


def test_the_tickets_next_event_is_applied() -> None:
    story = TicketStory(REQUESTER)
    known = contact_from_opened(story.opened())

    assert step_for(known, story.tags_change(STAFF, ("vip", "legacy-cluster"))) is Step.APPLY


def test_an_event_ahead_of_the_next_one_comes_early() -> None:
    story = TicketStory(REQUESTER)
    known = contact_from_opened(story.opened())
    story.cc_change(REQUESTER, ())  # not handled yet

    assert step_for(known, story.reply(STAFF)) is Step.EARLY


def test_an_event_at_or_below_the_known_version_was_applied_already() -> None:
    story = TicketStory(REQUESTER)
    opened = story.opened()
    reply = story.reply(STAFF)
    known = contact_after(contact_from_opened(opened), reply)

    assert (step_for(known, opened), step_for(known, reply)) == (Step.ALREADY_APPLIED, Step.ALREADY_APPLIED)


def test_a_ticket_kept_before_versions_were_counted_takes_its_events_as_they_come() -> None:
    story = TicketStory(REQUESTER)
    known = replace(contact_from_opened(story.opened()), version=None)
    story.reply(STAFF)

    step = step_for(known, story.close(STAFF))

    assert step is Step.APPLY
    assert contact_after(known, story.close(STAFF)).version == story.version


def test_a_cc_change_replaces_the_cc_recipients_whole() -> None:
    story = TicketStory(REQUESTER)
    known = contact_from_opened(story.opened(cc=CC))

    after = contact_after(known, story.cc_change(REQUESTER, ("new@example.com",)))

    assert (after.cc, after.version) == (("new@example.com",), 2)


def test_an_assignment_records_the_assignee_and_its_address() -> None:
    story = TicketStory(REQUESTER)
    known = contact_from_opened(story.opened())

    after = contact_after(known, story.assign(STAFF, ASSIGNEE))

    assert (after.assignee_id, after.assignee_email) == (ASSIGNEE.account_id, ASSIGNEE_EMAIL)


def test_an_assignee_without_an_address_is_recorded_without_one() -> None:
    story = TicketStory(REQUESTER)
    known = contact_after(contact_from_opened(story.opened()), story.assign(STAFF, ASSIGNEE))
    without_address = account(TENANT, Role.AGENT, email=None)

    after = contact_after(known, story.assign(STAFF, without_address))

    assert (after.assignee_id, after.assignee_email) == (without_address.account_id, None)


def test_unassigning_forgets_the_assignee() -> None:
    story = TicketStory(REQUESTER)
    known = contact_after(contact_from_opened(story.opened()), story.assign(STAFF, ASSIGNEE))

    after = contact_after(known, story.assign(STAFF, None))

    assert (after.assignee_id, after.assignee_email) == (None, None)


def test_an_event_that_changes_no_address_only_moves_the_version_on() -> None:
    story = TicketStory(REQUESTER)
    known = contact_from_opened(story.opened())

    after = contact_after(known, story.priority_change(STAFF, Priority.URGENT))

    assert after == replace(known, version=2)


def test_nul_characters_in_a_tickets_subject_and_addresses_are_replaced_by_the_replacement_character() -> None:
    story = TicketStory(REQUESTER, subject="Down\x00 again")
    known = contact_from_opened(story.opened(cc=("boss@example.com\x00",)))

    after = contact_after(known, story.assign(STAFF, account(TENANT, Role.AGENT, email="kim@hostdesk.test\x00")))

    assert (after.subject, after.cc, after.assignee_email) == (
        "Down\ufffd again",
        ("boss@example.com\ufffd",),
        "kim@hostdesk.test\ufffd",
    )
