"""Merging one ticket into another: both change in one save, and both ids keep resolving."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostdesk_contracts.base import Actor, Role, Status, Visibility
from hostdesk_contracts.commands import MergeTicket, OpenTicket, PostReply
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.adapters.ticket_numbers import CountingNumbers
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import CUSTOMER, NOW, STAFF, handle, new_id, open_command

STRANGER_STAFF = Actor(account_id="agent-9", tenant="globex", role=Role.AGENT)


@pytest.fixture
def app() -> Iterator[TicketsApplication]:
    application = TicketsApplication(numbers=CountingNumbers(), env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def opened(app: TicketsApplication) -> OpenTicket:
    command = open_command()
    assert handle(app, command).result == "committed"
    return command


def post(app: TicketsApplication, opening: OpenTicket, actor: Actor, body: str, **fields: object) -> None:
    command = PostReply(
        command_id=new_id(), ticket_id=opening.ticket_id, actor=actor, issued_at=NOW, body=body, **fields
    )
    assert handle(app, command).result == "committed"


def merge(app: TicketsApplication, source: OpenTicket, target: OpenTicket, actor: Actor = STAFF) -> CommandOutcome:
    command = MergeTicket(
        command_id=new_id(), ticket_id=source.ticket_id, actor=actor, issued_at=NOW, into_ticket_id=target.ticket_id
    )
    return handle(app, command)


def test_the_target_gains_the_source_posts_in_time_order_and_the_source_links_to_it(app: TicketsApplication) -> None:
    target = opened(app)
    source = opened(app)
    post(app, target, STAFF, "target answer")
    post(app, source, STAFF, "source note", visibility=Visibility.INTERNAL)

    outcome = merge(app, source, target)

    assert outcome.result == "committed"
    merged_source = app.get_ticket(source.ticket_id)
    merged_target = app.get_ticket(target.ticket_id)
    assert (merged_source.status, merged_source.archived) == (Status.CLOSED, True)
    assert merged_source.merged_into == str(target.ticket_id)
    last = to_public(list(app.repository.event_store.get(target.ticket_id))[-1])
    posts = last.posts  # type: ignore[attr-defined]
    assert [p.body for p in posts] == [source.body, "source note"]
    assert [p.visibility for p in posts] == [Visibility.PUBLIC, Visibility.INTERNAL]
    assert posts[0].occurred_at < posts[1].occurred_at
    assert merged_target.status is Status.ANSWERED  # a merge changes the target's status in no way


def test_a_merge_delivered_twice_is_applied_once(app: TicketsApplication) -> None:
    target, source = opened(app), opened(app)
    command = MergeTicket(
        command_id=new_id(), ticket_id=source.ticket_id, actor=STAFF, issued_at=NOW, into_ticket_id=target.ticket_id
    )

    first, again = handle(app, command), handle(app, command)

    assert first == again
    assert app.get_ticket(target.ticket_id).version == 2


def test_a_merged_ticket_takes_no_more_posts_nor_merges(app: TicketsApplication) -> None:
    target, source, third = opened(app), opened(app), opened(app)
    merge(app, source, target)

    reply = PostReply(command_id=new_id(), ticket_id=source.ticket_id, actor=CUSTOMER, issued_at=NOW, body="more")
    refused_reply = handle(app, reply)
    refused_merge = merge(app, third, source)

    assert (refused_reply.refusal, refused_merge.refusal) == (Refusal.CONFLICT, Refusal.CONFLICT)
    assert "merged" in (refused_reply.detail or "")


def test_merging_into_itself_or_by_the_requester_is_refused(app: TicketsApplication) -> None:
    target, source = opened(app), opened(app)

    assert merge(app, source, source).refusal is Refusal.CONFLICT
    assert merge(app, source, target, actor=CUSTOMER).refusal is Refusal.CONFLICT
    assert app.get_ticket(source.ticket_id).version == 1


def test_merging_into_a_ticket_the_caller_cannot_see_is_not_found(app: TicketsApplication) -> None:
    source = opened(app)
    foreign = open_command(Actor(account_id="cust-9", tenant="globex", role=Role.CUSTOMER))
    handle(app, foreign)

    outcome = merge(app, source, foreign)

    assert outcome.refusal is Refusal.NOT_FOUND
    assert app.get_ticket(source.ticket_id).version == 1
