"""What each event of a ticket's lifecycle does to the ticket as lists show it, and to its timeline."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import get_args

import pytest
from hostdesk_contracts.base import Priority, Rating, Role, Side, Status, Visibility
from hostdesk_contracts.events import EVENT_TYPES, TicketEvent
from hostdesk_devtools.stories import TicketStory, account, every_kind_of_event
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.model import EntryKind, TicketRecord, TimelineEntry
from hostdesk_query.domain.projection import KnownEvent, change_of, plan_batch
from hostdesk_query.domain.timeline import in_time_order

TENANT = "acme"
CUSTOMER = account(TENANT, name="Carol")
AGENT = account(TENANT, Role.AGENT, name="Alice")


def project(*events: TicketEvent) -> tuple[TicketRecord, tuple[TimelineEntry, ...]]:
    """The ticket and the timeline entries that ``events``, all of one ticket, leave."""
    plan = plan_batch({}, [change_of(event) for event in events])  # type: ignore[arg-type]
    (ticket,) = plan.created
    return ticket, plan.entries


def test_every_event_the_contracts_publish_has_a_projection() -> None:
    assert set(get_args(KnownEvent)) == set(EVENT_TYPES)


def test_each_kind_of_event_of_a_lifecycle_applies_in_turn() -> None:
    lifecycle = every_kind_of_event(TENANT)

    plan = plan_batch({}, [change_of(event) for event in lifecycle.events])

    assert {type(event) for event in lifecycle.events} == set(EVENT_TYPES)
    assert set(plan.decisions) == {Decision.APPLY}
    assert {ticket.ticket_id: ticket.version for ticket in plan.created} == {
        lifecycle.target.ticket_id: lifecycle.target.version,
        lifecycle.source.ticket_id: lifecycle.source.version,
        lifecycle.imported.ticket_id: lifecycle.imported.version,
    }


def test_an_imported_ticket_keeps_its_dates_posts_and_status_and_says_it_was_imported() -> None:
    story = TicketStory(CUSTOMER, subject="Mail bounces")
    imported = story.imported(account(TENANT, Role.SUPERVISOR), agent=AGENT)

    ticket, entries = project(imported, story.reply(CUSTOMER, "Works now."))

    assert ticket.created_at == imported.opened_at
    assert ticket.created_at < imported.occurred_at
    assert (ticket.status, ticket.number, ticket.archived) == (Status.ANSWERED, story.number, False)
    assert ticket.last_post_at == entries[-1].occurred_at  # the reply here, after the history
    kinds = [(entry.kind, entry.part) for entry in entries]
    assert kinds[:3] == [(EntryKind.IMPORTED, 0), (EntryKind.IMPORTED_POST, 1), (EntryKind.IMPORTED_POST, 2)]
    assert (entries[0].from_value, entries[0].to_value, entries[0].occurred_at) == (
        "whmcs",
        "T-1001",
        imported.occurred_at,
    )
    assert [(entry.occurred_at, entry.actor_id, entry.body) for entry in entries[1:3]] == [
        (post.occurred_at, post.actor.account_id, post.body) for post in imported.posts
    ]


def test_an_opened_ticket_has_its_category_and_tags_and_is_not_archived() -> None:
    story = TicketStory(CUSTOMER)

    ticket, _ = project(story.opened(category="Domains", tags=("dns", "transfer")))

    assert (ticket.category, ticket.tags, ticket.archived) == ("Domains", ("dns", "transfer"), False)
    assert (ticket.assignee_id, ticket.rating, ticket.status_label, ticket.merged_into_ticket_id) == (
        None,
        None,
        None,
        None,
    )


def test_a_status_change_sets_the_status_with_the_providers_label() -> None:
    story = TicketStory(CUSTOMER)
    opened = story.opened()

    ticket, entries = project(opened, story.status_change(AGENT, Status.IN_PROGRESS, label="Validation"))

    assert (ticket.status, ticket.status_label) == (Status.IN_PROGRESS, "Validation")
    assert (entries[-1].kind, entries[-1].from_status, entries[-1].to_status, entries[-1].status_label) == (
        EntryKind.STATUS_CHANGED,
        Status.OPEN,
        Status.IN_PROGRESS,
        "Validation",
    )


def test_a_later_status_without_a_label_drops_the_earlier_label() -> None:
    story = TicketStory(CUSTOMER)
    events = [story.opened(), story.status_change(AGENT, Status.IN_PROGRESS, label="Validation")]

    ticket, _ = project(*events, story.status_change(AGENT, Status.ANSWERED))

    assert (ticket.status, ticket.status_label) == (Status.ANSWERED, None)


def test_closing_archives_the_ticket_and_an_automatic_close_says_so() -> None:
    story = TicketStory(CUSTOMER)
    system = account(TENANT, Role.SYSTEM)
    events = [story.opened(), story.status_change(AGENT, Status.ANSWERED, label="Waiting on you")]

    ticket, entries = project(*events, story.close(system, "No answer for 7 days.", automatic=True))

    assert (ticket.status, ticket.status_label, ticket.archived) == (Status.CLOSED, None, True)
    assert (entries[-1].kind, entries[-1].automatic, entries[-1].reason) == (
        EntryKind.CLOSED,
        True,
        "No answer for 7 days.",
    )


def test_reopening_takes_the_ticket_out_of_the_archive() -> None:
    story = TicketStory(CUSTOMER)
    events = [story.opened(), story.status_change(AGENT, Status.ANSWERED), story.archive(AGENT)]

    ticket, entries = project(*events, story.reopen(CUSTOMER))

    assert (ticket.status, ticket.archived) == (Status.OPEN, False)
    assert [entry.kind for entry in entries[-2:]] == [EntryKind.ARCHIVED, EntryKind.REOPENED]


def test_archiving_keeps_the_status() -> None:
    story = TicketStory(CUSTOMER)
    events = [story.opened(), story.status_change(AGENT, Status.RESOLVED)]

    ticket, entries = project(*events, story.archive(AGENT))

    assert (ticket.status, ticket.archived) == (Status.RESOLVED, True)
    assert (entries[-1].kind, entries[-1].to_status) == (EntryKind.ARCHIVED, Status.RESOLVED)


def test_an_assignment_names_the_assignee_and_an_unassignment_clears_it() -> None:
    story = TicketStory(CUSTOMER)
    opened, assigned = story.opened(), story.assign(AGENT, AGENT)

    assigned_ticket, _ = project(opened, assigned)
    ticket, entries = project(opened, assigned, story.assign(AGENT, None))

    assert (assigned_ticket.assignee_id, assigned_ticket.assignee_name) == (AGENT.account_id, "Alice")
    assert (ticket.assignee_id, ticket.assignee_name) == (None, None)
    assert [(e.kind, e.from_value, e.from_label, e.to_value, e.to_label) for e in entries[1:]] == [
        (EntryKind.ASSIGNED, None, None, AGENT.account_id, "Alice"),
        (EntryKind.ASSIGNED, AGENT.account_id, "Alice", None, None),
    ]


@pytest.mark.parametrize(
    ("change", "kind", "field", "before", "after"),
    [
        (
            lambda s: s.priority_change(AGENT, Priority.URGENT),
            EntryKind.PRIORITY_CHANGED,
            "priority",
            "normal",
            "urgent",
        ),
        (
            lambda s: s.department_change(AGENT, "Billing"),
            EntryKind.DEPARTMENT_CHANGED,
            "department",
            "Technical Support",
            "Billing",
        ),
        (lambda s: s.category_change(AGENT, "Refunds"), EntryKind.CATEGORY_CHANGED, "category", None, "Refunds"),
    ],
    ids=["priority", "department", "category"],
)
def test_a_field_change_sets_the_field_and_records_both_values(
    change: Callable[[TicketStory], TicketEvent], kind: EntryKind, field: str, before: str | None, after: str
) -> None:
    story = TicketStory(CUSTOMER)
    opened = story.opened()

    ticket, entries = project(opened, change(story))

    assert getattr(ticket, field) == after
    assert (entries[-1].kind, entries[-1].from_value, entries[-1].to_value, entries[-1].actor_id) == (
        kind,
        before,
        after,
        AGENT.account_id,
    )


def test_a_cc_change_replaces_the_recipients_and_records_both_lists() -> None:
    story = TicketStory(CUSTOMER)
    opened = story.opened()

    ticket, entries = project(opened, story.cc_change(AGENT, ("ops@example.net",)))

    assert ticket.cc == ("ops@example.net",)
    assert (entries[-1].kind, entries[-1].from_values, entries[-1].to_values) == (
        EntryKind.CC_CHANGED,
        ("boss@example.net",),
        ("ops@example.net",),
    )


def test_a_tags_change_replaces_the_tags_in_an_internal_entry() -> None:
    story = TicketStory(CUSTOMER)
    opened = story.opened(tags=("vps",))

    ticket, entries = project(opened, story.tags_change(AGENT, ("vps", "urgent-customer")))

    assert ticket.tags == ("vps", "urgent-customer")
    assert (entries[-1].kind, entries[-1].visibility, entries[-1].from_values, entries[-1].to_values) == (
        EntryKind.TAGS_CHANGED,
        Visibility.INTERNAL,
        ("vps",),
        ("vps", "urgent-customer"),
    )


def test_a_rating_is_kept_with_its_comment() -> None:
    story = TicketStory(CUSTOMER)
    events = [story.opened(), story.status_change(CUSTOMER, Status.RESOLVED)]

    ticket, entries = project(*events, story.rate(Rating.UNSATISFIED, "Two days without mail."))

    assert (ticket.rating, ticket.rating_comment) == (Rating.UNSATISFIED, "Two days without mail.")
    assert (entries[-1].kind, entries[-1].to_value, entries[-1].body, entries[-1].side) == (
        EntryKind.RATED,
        "unsatisfied",
        "Two days without mail.",
        Side.REQUESTER,
    )


def test_a_merged_ticket_is_closed_archived_and_names_the_ticket_it_went_into() -> None:
    source, target = TicketStory(CUSTOMER), TicketStory(CUSTOMER)
    opened = source.opened()

    ticket, entries = project(opened, source.merge_into(AGENT, target))

    assert (ticket.status, ticket.archived) == (Status.CLOSED, True)
    assert (ticket.merged_into_ticket_id, ticket.merged_into_number) == (target.ticket_id, target.number)
    assert (entries[-1].kind, entries[-1].related_ticket_id, entries[-1].related_number) == (
        EntryKind.MERGED,
        target.ticket_id,
        target.number,
    )


def test_merged_posts_each_make_an_entry_by_their_author_at_their_own_time() -> None:
    target, source = TicketStory(CUSTOMER), TicketStory(CUSTOMER)
    source_events = [source.opened(), source.reply(AGENT, "Note.", visibility=Visibility.INTERNAL)]
    opened = target.opened()

    _, entries = project(opened, target.absorb(AGENT, source))

    merged = entries[1:]
    assert [(e.version, e.part) for e in merged] == [(2, 0), (2, 1)]
    assert [e.kind for e in merged] == [EntryKind.MERGED_POST] * 2
    assert [(e.occurred_at, e.actor_id, e.side, e.body, e.visibility) for e in merged] == [
        (event.occurred_at, event.actor.account_id, event.side, event.body, visibility)
        for event, visibility in zip(source_events, [Visibility.PUBLIC, Visibility.INTERNAL], strict=True)
    ]
    assert {(e.related_ticket_id, e.related_number) for e in merged} == {(source.ticket_id, source.number)}


def test_merged_posts_fall_in_place_among_the_targets_own_posts() -> None:
    target = TicketStory(CUSTOMER)
    source = TicketStory(CUSTOMER, start=target.start + timedelta(seconds=1.5))
    own = [target.opened(), target.reply(AGENT, "Target 2"), target.reply(AGENT, "Target 3")]
    source.opened(body="Source 1")
    source.reply(AGENT, "Source 2")

    _, entries = project(*own, target.absorb(AGENT, source))

    bodies = [entry.body for entry in in_time_order(entries, newest_first=False)]
    assert bodies == ["vps-1042 stopped answering.", "Target 2", "Source 1", "Target 3", "Source 2"]
    assert [entry.body for entry in in_time_order(entries, newest_first=True)] == list(reversed(bodies))


def test_entries_of_the_same_moment_keep_the_order_of_their_events() -> None:
    story = TicketStory(CUSTOMER)
    _, entries = project(story.opened(), story.reply(AGENT), story.status_change(AGENT, Status.ANSWERED))
    same_moment = [entry._replace(occurred_at=story.start) for entry in entries]

    ordered = in_time_order(reversed(same_moment), newest_first=False)

    assert [entry.version for entry in ordered] == [1, 2, 3]


def last_post_after_merging_posts_from(offset: timedelta) -> tuple[datetime, datetime, datetime]:
    """The target's last post time once a ticket started ``offset`` after it is merged into it, beside the
    target's own last post time and the merged post's time."""
    target = TicketStory(CUSTOMER)
    source = TicketStory(CUSTOMER, start=target.start + offset)
    merged_post = source.opened()
    own = [target.opened(), target.reply(AGENT)]

    ticket, _ = project(*own, target.absorb(AGENT, source))

    return ticket.last_post_at, own[-1].occurred_at, merged_post.occurred_at


def test_older_merged_posts_leave_the_last_post_time() -> None:
    last_post_at, own_last_post_at, _ = last_post_after_merging_posts_from(-timedelta(hours=1))

    assert last_post_at == own_last_post_at


def test_newer_merged_posts_move_the_last_post_time() -> None:
    last_post_at, _, merged_post_at = last_post_after_merging_posts_from(timedelta(hours=1))

    assert last_post_at == merged_post_at


def test_text_the_database_cannot_hold_is_made_storable_in_every_field() -> None:
    story = TicketStory(CUSTOMER)
    opened = story.opened(category="Mail\x00", tags=("a\x00b",))

    ticket, entries = project(opened, story.cc_change(AGENT, ("x\x00@example.net",)))

    assert (ticket.category, ticket.tags, ticket.cc) == ("Mail\ufffd", ("a\ufffdb",), ("x\ufffd@example.net",))
    assert entries[-1].to_values == ("x\ufffd@example.net",)
