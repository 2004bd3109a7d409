from dataclasses import replace

from hostdesk_notify.domain.contacts import Step, contact_after, contact_from_opened, step_for

from tests.unit.notify.builders import ASSIGNEE_EMAIL, CC, TicketStory


def test_a_tickets_opening_is_applied_when_notify_knows_nothing_of_it() -> None:
    assert step_for(None, TicketStory().opened()) is Step.APPLY


def test_any_other_event_of_a_ticket_not_seen_opened_comes_early() -> None:
    story = TicketStory()
    story.opened()

    assert step_for(None, story.internal_note()) is Step.EARLY


def test_the_tickets_next_event_is_applied() -> None:
    story = TicketStory()
    known = contact_from_opened(story.opened())

    assert step_for(known, story.tags_changed()) is Step.APPLY


def test_an_event_ahead_of_the_next_one_comes_early() -> None:
    story = TicketStory()
    known = contact_from_opened(story.opened())
    story.cc_changed(())  # not handled yet

    assert step_for(known, story.staff_reply()) is Step.EARLY


def test_an_event_at_or_below_the_known_version_was_applied_already() -> None:
    story = TicketStory()
    opened = story.opened()
    reply = story.staff_reply()
    known = contact_after(contact_from_opened(opened), reply)

    assert (step_for(known, opened), step_for(known, reply)) == (Step.ALREADY_APPLIED, Step.ALREADY_APPLIED)


def test_a_ticket_kept_before_versions_were_counted_takes_its_events_as_they_come() -> None:
    story = TicketStory()
    known = replace(contact_from_opened(story.opened()), version=None)
    story.staff_reply()

    step = step_for(known, story.closed())

    assert step is Step.APPLY
    assert contact_after(known, story.closed()).version == story.version


def test_a_cc_change_replaces_the_cc_recipients_whole() -> None:
    story = TicketStory()
    known = contact_from_opened(story.opened(cc=CC))

    after = contact_after(known, story.cc_changed(("new@example.com",)))

    assert (after.cc, after.version) == (("new@example.com",), 2)


def test_an_assignment_records_the_assignee_and_its_address() -> None:
    story = TicketStory()
    known = contact_from_opened(story.opened())

    after = contact_after(known, story.assigned(account_id="agent-2"))

    assert (after.assignee_id, after.assignee_email) == ("agent-2", ASSIGNEE_EMAIL)


def test_an_assignee_without_an_address_is_recorded_without_one() -> None:
    story = TicketStory()
    known = contact_after(contact_from_opened(story.opened()), story.assigned())

    after = contact_after(known, story.assigned(email=None, account_id="agent-3"))

    assert (after.assignee_id, after.assignee_email) == ("agent-3", None)


def test_unassigning_forgets_the_assignee() -> None:
    story = TicketStory()
    known = contact_after(contact_from_opened(story.opened()), story.assigned())

    after = contact_after(known, story.unassigned())

    assert (after.assignee_id, after.assignee_email) == (None, None)


def test_an_event_that_changes_no_address_only_moves_the_version_on() -> None:
    story = TicketStory()
    known = contact_from_opened(story.opened())

    after = contact_after(known, story.priority_changed())

    assert after == replace(known, version=2)


def test_nul_characters_in_a_tickets_subject_and_addresses_are_replaced_by_the_replacement_character() -> None:
    story = TicketStory(subject="Down\x00 again")
    known = contact_from_opened(story.opened(cc=("boss@example.com\x00",)))

    after = contact_after(known, story.assigned(email="kim@hostdesk.test\x00"))

    assert (after.subject, after.cc, after.assignee_email) == (
        "Down\ufffd again",
        ("boss@example.com\ufffd",),
        "kim@hostdesk.test\ufffd",
    )
