"""Planning the chunks of a catch-up: events ahead of their ticket wait within the chunk, then across chunks."""

import pytest
from hostdesk_contracts.base import Role, Status
from hostdesk_contracts.events import AnyEvent
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_query.adapters.catchup_stream import ReadInterrupted, StreamMessage, position_of
from hostdesk_query.domain.catchup_plan import Pending, plan_chunk, resume_seq
from hostdesk_query.domain.gate import Decision
from hostdesk_query.domain.projection import change_of, plan_batch

TENANT = "acme"
AGENT = account(TENANT, Role.AGENT)


def pending(seq: int, event: AnyEvent) -> Pending[StreamMessage]:
    message = StreamMessage(seq=seq, subject=f"tickets.events.{TENANT}.x.v1", data=b"", headers={})
    return Pending(seq, change_of(event), message)


def test_events_of_a_ticket_published_backwards_all_apply_in_version_order() -> None:
    story = TicketStory(account(TENANT))
    opened, reply, answered = story.opened(), story.reply(AGENT), story.status_change(AGENT, Status.ANSWERED)

    chunk = plan_chunk({}, [pending(1, answered), pending(2, reply), pending(3, opened)])

    assert chunk.held == ()
    assert [entry.version for entry in chunk.plan.entries] == [1, 2, 3]
    (ticket,) = chunk.plan.created
    assert (ticket.version, ticket.status) == (3, Status.ANSWERED)


def test_the_other_events_of_the_chunk_are_decided_as_if_nothing_was_held() -> None:
    early, late = TicketStory(account(TENANT)), TicketStory(account(TENANT))
    early_opened, early_reply = early.opened(), early.reply(AGENT)
    late.opened()  # published in a later chunk
    late_reply = late.reply(AGENT)

    chunk = plan_chunk({}, [pending(1, late_reply), pending(2, early_opened), pending(3, early_reply)])
    alone = plan_batch({}, [change_of(early_opened), change_of(early_reply)])

    assert [p.seq for p in chunk.held] == [1]
    assert chunk.plan.created == alone.created
    assert chunk.plan.entries == alone.entries


def test_an_event_still_held_waits_for_a_later_chunk_and_reading_would_resume_at_it() -> None:
    story = TicketStory(account(TENANT))
    opened, reply = story.opened(), story.reply(AGENT)
    first = plan_chunk({}, [pending(7, reply)])

    second = plan_chunk({}, [*first.held, pending(9, opened)])

    assert resume_seq(first.held, read_seq=8) == 7
    assert second.held == ()
    assert [entry.version for entry in second.plan.entries] == [1, 2]
    assert resume_seq(second.held, read_seq=9) == 10


def test_events_already_applied_are_duplicates_and_write_nothing() -> None:
    story = TicketStory(account(TENANT))
    opened, reply = story.opened(), story.reply(AGENT)
    ticket = plan_batch({}, [change_of(opened), change_of(reply)]).created[0]

    chunk = plan_chunk({ticket.ticket_id: ticket}, [pending(1, opened), pending(2, reply)])

    assert chunk.plan.decisions == (Decision.DUPLICATE, Decision.DUPLICATE)
    assert (chunk.plan.created, chunk.plan.updated, chunk.plan.entries) == ((), (), ())


def test_both_reply_subject_formats_give_the_stream_and_consumer_sequences() -> None:
    old = position_of("$JS.ACK.TICKETS_EVENTS.query-catchup.1.812.3.1700000000000000000.40")
    new = position_of("$JS.ACK.hub.ACCHASH.TICKETS_EVENTS.query-catchup.1.812.3.1700000000000000000.40.xyz")

    assert (old.stream_seq, old.consumer_seq, old.pending) == (812, 3, 40)
    assert new == old


def test_a_message_that_is_not_from_jetstream_interrupts_the_reading() -> None:
    with pytest.raises(ReadInterrupted):
        position_of("_INBOX.abc.def")
