from datetime import timedelta

from hostdesk_contracts.base import Role, Status, Visibility
from hostdesk_contracts.events import TicketEvent
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.model import EntryKind
from hostdesk_query.domain.projection import bump_of, change_of, plan_batch

TENANT = "acme"
AGENT = account(TENANT, Role.AGENT, name="Alice")


def test_a_batch_that_opens_a_ticket_creates_it_with_its_first_post() -> None:
    story = TicketStory(account(TENANT))
    opened = story.opened(subject="Mail bounces", body="All mail to x@y bounces.")

    plan = plan_batch({}, [change_of(opened)])

    (ticket,) = plan.created
    (entry,) = plan.entries
    assert (ticket.subject, ticket.status, ticket.version) == ("Mail bounces", Status.OPEN, 1)
    assert (entry.kind, entry.body, entry.visibility) == (
        EntryKind.OPENED,
        "All mail to x@y bounces.",
        Visibility.PUBLIC,
    )


def test_events_delivered_twice_in_one_batch_apply_once() -> None:
    story = TicketStory(account(TENANT))
    opened, reply = story.opened(), story.reply(AGENT)

    plan = plan_batch({}, [change_of(e) for e in (opened, reply, opened, reply)])

    assert plan.decisions == (Decision.APPLY, Decision.APPLY, Decision.DUPLICATE, Decision.DUPLICATE)
    assert [entry.version for entry in plan.entries] == [1, 2]


def test_an_event_ahead_of_the_next_one_is_a_gap_and_the_next_one_still_applies() -> None:
    story = TicketStory(account(TENANT))
    opened, reply, answered = story.opened(), story.reply(AGENT), story.status_change(AGENT, Status.ANSWERED)
    ticket = plan_batch({}, [change_of(opened)]).created[0]

    plan = plan_batch({ticket.ticket_id: ticket}, [change_of(answered), change_of(reply)])

    assert plan.decisions == (Decision.GAP, Decision.APPLY)
    assert plan.updated[0].version == 2


def test_a_ticket_present_before_the_batch_is_updated_not_created() -> None:
    story = TicketStory(account(TENANT))
    ticket = plan_batch({}, [change_of(story.opened())]).created[0]

    plan = plan_batch({ticket.ticket_id: ticket}, [change_of(story.status_change(AGENT, Status.IN_PROGRESS))])

    assert plan.created == ()
    assert plan.updated[0].status is Status.IN_PROGRESS


def test_a_post_moves_the_last_post_time_and_a_status_change_does_not() -> None:
    story = TicketStory(account(TENANT))
    opened, reply, answered = story.opened(), story.reply(AGENT), story.status_change(AGENT, Status.ANSWERED)

    (ticket,) = plan_batch({}, [change_of(e) for e in (opened, reply, answered)]).created

    assert ticket.last_post_at == reply.occurred_at
    assert ticket.updated_at == answered.occurred_at
    assert ticket.created_at == opened.occurred_at


def test_closing_and_reopening_move_the_status() -> None:
    story = TicketStory(account(TENANT))
    events = [story.opened(), story.close(AGENT, reason="Fixed"), story.reopen(account(TENANT))]

    plan = plan_batch({}, [change_of(e) for e in events])

    assert plan.created[0].status is Status.OPEN
    assert [(e.kind, e.from_status, e.to_status) for e in plan.entries[1:]] == [
        (EntryKind.CLOSED, Status.OPEN, Status.CLOSED),
        (EntryKind.REOPENED, Status.CLOSED, Status.OPEN),
    ]


def test_an_event_of_an_unknown_type_moves_the_version_and_adds_no_entry() -> None:
    story = TicketStory(account(TENANT))
    opened = story.opened()
    envelope = TicketEvent.model_validate(story.reply(AGENT).model_dump() | {"type": "ticket.escalated.v1"})

    plan = plan_batch({}, [change_of(opened), bump_of(envelope)])

    assert plan.created[0].version == 2
    assert plan.created[0].last_post_at == opened.occurred_at
    assert [entry.version for entry in plan.entries] == [1]


def test_a_nul_character_in_a_body_is_replaced_rather_than_refused() -> None:
    story = TicketStory(account(TENANT))

    (entry,) = change_of(story.opened(body="binary\x00junk")).entries

    assert entry.body == "binary\ufffdjunk"


def test_the_planned_tickets_come_in_ticket_id_order() -> None:
    stories = [TicketStory(account(TENANT)) for _ in range(5)]
    changes = [change_of(story.opened()) for story in stories]

    plan = plan_batch({}, changes)

    assert [t.ticket_id for t in plan.created] == sorted(story.ticket_id for story in stories)
    assert plan.created[0].updated_at - plan.created[0].created_at == timedelta(0)
