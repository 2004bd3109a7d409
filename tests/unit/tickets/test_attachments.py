"""The files of a ticket's posts: recorded with each post, each once, no more than a ticket takes, carried by a
merge, and shown in the history to those who are shown the post (an in-memory event store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from hostdesk_contracts.attachments import MAX_ATTACHMENTS_PER_POST, Attachment
from hostdesk_contracts.base import Actor, Visibility
from hostdesk_contracts.commands import MergeTicket, OpenTicket, PostReply
from hostdesk_contracts.events import EVENT_ADAPTER, AnyEvent, PostsMerged, ReplyPosted, TicketOpened
from hostdesk_contracts.outcomes import CommandOutcome, Refusal
from hostdesk_tickets.adapters.public_events import to_public
from hostdesk_tickets.domain.limits import ATTACHMENTS_MAX
from hostdesk_tickets.service_layer.application import TicketsApplication

from .builders import CUSTOMER, NOW, STAFF, attachment, handle, new_id, open_command
from .serving import bearer


def files(count: int, *, named: str = "screenshot") -> list[Attachment]:
    return [attachment(f"{named}-{n}.png", media_type="image/png") for n in range(count)]


def opened(app: TicketsApplication, attachments: Sequence[Attachment] = ()) -> OpenTicket:
    command = open_command(attachments=attachments)
    outcome = handle(app, command)
    assert outcome.result == "committed", outcome.detail
    return command


def post(
    app: TicketsApplication,
    opening: OpenTicket,
    actor: Actor,
    attachments: Sequence[Attachment] = (),
    *,
    visibility: Visibility = Visibility.PUBLIC,
    body: str = "See the file attached.",
) -> CommandOutcome:
    command = PostReply(
        command_id=new_id(),
        ticket_id=opening.ticket_id,
        actor=actor,
        issued_at=NOW,
        body=body,
        visibility=visibility,
        attachments=tuple(attachments),
    )
    return handle(app, command)


def merge(app: TicketsApplication, source: OpenTicket, target: OpenTicket) -> CommandOutcome:
    command = MergeTicket(
        command_id=new_id(), ticket_id=source.ticket_id, actor=STAFF, issued_at=NOW, into_ticket_id=target.ticket_id
    )
    return handle(app, command)


def public_events(app: TicketsApplication, opening: OpenTicket) -> list[AnyEvent]:
    return [EVENT_ADAPTER.validate_python(to_public(e)) for e in app.repository.event_store.get(opening.ticket_id)]


def posts_of(events: Sequence[AnyEvent]) -> list[ReplyPosted]:
    return [event for event in events if isinstance(event, ReplyPosted)]


def attachment_ids(entries: Sequence[dict[str, Any]]) -> list[list[str]]:
    """The ids of the files of each post among timeline entries as the API answers them."""
    shown: list[list[str]] = []
    for entry in entries:
        if entry["type"] in ("ticket.opened.v1", "ticket.reply_posted.v1"):
            shown.append([file["id"] for file in entry["attachments"]])
        elif entry["type"] == "ticket.posts_merged.v1":
            shown.extend([file["id"] for file in merged["attachments"]] for merged in entry["posts"])
    return shown


def ids(attachments: Sequence[Attachment]) -> list[str]:
    return [file.id for file in attachments]


# -- each post records its files ---------------------------------------------------------------------------------


def test_a_ticket_opened_with_files_records_them_on_its_opening(app: TicketsApplication) -> None:
    first = files(2)

    opening = opened(app, first)

    (event,) = public_events(app, opening)
    assert isinstance(event, TicketOpened)
    assert event.attachments == tuple(first)
    assert app.get_ticket(opening.ticket_id).attachment_count == 2


def test_a_reply_with_files_records_them_on_the_reply(app: TicketsApplication) -> None:
    opening = opened(app)
    log = attachment("nginx-error.log")

    outcome = post(app, opening, CUSTOMER, [log])

    assert outcome.result == "committed"
    (replied,) = posts_of(public_events(app, opening))
    assert replied.attachments == (log,)
    assert replied.attachments[0].model_dump() == log.model_dump()  # name, type, size and digest as intake made them


def test_a_post_without_files_records_none(app: TicketsApplication) -> None:
    opening = opened(app)

    post(app, opening, STAFF)

    opening_event, *_ = public_events(app, opening)
    assert isinstance(opening_event, TicketOpened)
    assert opening_event.attachments == ()
    assert [p.attachments for p in posts_of(public_events(app, opening))] == [()]


def test_an_internal_notes_files_are_the_notes(app: TicketsApplication) -> None:
    opening = opened(app)
    dump = attachment("db-dump.sql")

    outcome = post(app, opening, STAFF, [dump], visibility=Visibility.INTERNAL)

    assert outcome.result == "committed"
    (note,) = posts_of(public_events(app, opening))
    assert (note.visibility, note.attachments) == (Visibility.INTERNAL, (dump,))


# -- refusals ----------------------------------------------------------------------------------------------------


def test_an_opening_naming_one_attachment_twice_is_refused_as_invalid_naming_attachments(
    app: TicketsApplication,
) -> None:
    twice = attachment("invoice.pdf", media_type="application/pdf")
    command = open_command(attachments=[twice, attachment(), twice])

    outcome = handle(app, command)

    assert (outcome.result, outcome.refusal, outcome.field) == ("refused", Refusal.INVALID, "attachments")
    assert twice.id in (outcome.detail or "")
    assert app.recorder.max_notification_id() is None  # nothing opened


def test_a_reply_naming_one_attachment_twice_is_refused_as_invalid_naming_attachments(
    app: TicketsApplication,
) -> None:
    opening = opened(app)
    twice = attachment()

    outcome = post(app, opening, CUSTOMER, [twice, twice])

    assert (outcome.result, outcome.refusal, outcome.field) == ("refused", Refusal.INVALID, "attachments")
    assert outcome.current_version == 1
    assert app.get_ticket(opening.ticket_id).version == 1  # nothing posted


def test_a_ticket_takes_its_bound_of_files_and_a_post_past_it_is_refused_naming_attachments(
    app: TicketsApplication,
) -> None:
    opening = opened(app)
    for _ in range(ATTACHMENTS_MAX // MAX_ATTACHMENTS_PER_POST):
        assert post(app, opening, STAFF, files(MAX_ATTACHMENTS_PER_POST)).result == "committed"
    full = app.get_ticket(opening.ticket_id)
    assert full.attachment_count == ATTACHMENTS_MAX

    outcome = post(app, opening, CUSTOMER, [attachment()])

    assert (outcome.result, outcome.refusal, outcome.field) == ("refused", Refusal.INVALID, "attachments")
    assert f"at most {ATTACHMENTS_MAX} files" in (outcome.detail or "")
    assert (outcome.current_status, outcome.current_version) == (full.status, full.version)
    assert app.get_ticket(opening.ticket_id).version == full.version


def test_a_ticket_full_of_files_still_takes_posts_without_files(app: TicketsApplication) -> None:
    opening = opened(app, files(MAX_ATTACHMENTS_PER_POST))
    for _ in range(ATTACHMENTS_MAX // MAX_ATTACHMENTS_PER_POST - 1):
        post(app, opening, STAFF, files(MAX_ATTACHMENTS_PER_POST))

    outcome = post(app, opening, CUSTOMER, body="Thanks, it works now.")

    assert outcome.result == "committed"


def test_the_bound_counts_the_files_of_a_ticket_rebuilt_from_its_events(app: TicketsApplication) -> None:
    opening = opened(app, files(3))
    post(app, opening, STAFF, files(4))
    post(app, opening, STAFF, files(1), visibility=Visibility.INTERNAL)

    replayed = None
    for event in app.events.get(opening.ticket_id):  # every event, no snapshot
        replayed = event.mutate(replayed)  # type: ignore[attr-defined]

    assert replayed is not None
    assert replayed.attachment_count == 8 == app.get_ticket(opening.ticket_id).attachment_count


# -- merge -------------------------------------------------------------------------------------------------------


def test_a_merge_carries_each_posts_files_into_the_target(app: TicketsApplication) -> None:
    target = opened(app)
    first, answer, note = files(2, named="first"), files(1, named="answer"), files(1, named="note")
    source = opened(app, first)
    post(app, source, STAFF, answer)
    post(app, source, STAFF, note, visibility=Visibility.INTERNAL)
    post(app, source, CUSTOMER, body="No file this time.")

    outcome = merge(app, source, target)

    assert outcome.result == "committed"
    merged = public_events(app, target)[-1]
    assert isinstance(merged, PostsMerged)
    assert [(p.visibility, p.attachments) for p in merged.posts] == [
        (Visibility.PUBLIC, tuple(first)),
        (Visibility.PUBLIC, tuple(answer)),
        (Visibility.INTERNAL, tuple(note)),
        (Visibility.PUBLIC, ()),
    ]
    assert app.get_ticket(target.ticket_id).attachment_count == 4


def test_files_merged_in_count_against_the_targets_bound(app: TicketsApplication) -> None:
    target = opened(app)
    for _ in range(ATTACHMENTS_MAX // MAX_ATTACHMENTS_PER_POST - 1):
        post(app, target, STAFF, files(MAX_ATTACHMENTS_PER_POST))
    source = opened(app, files(MAX_ATTACHMENTS_PER_POST))
    assert merge(app, source, target).result == "committed"  # exactly the bound

    outcome = post(app, target, CUSTOMER, [attachment()])

    assert (outcome.result, outcome.field) == ("refused", "attachments")


def test_a_merge_that_would_take_the_target_past_its_bound_of_files_is_refused(app: TicketsApplication) -> None:
    target = opened(app, files(5))
    for _ in range(ATTACHMENTS_MAX // MAX_ATTACHMENTS_PER_POST - 1):
        post(app, target, STAFF, files(MAX_ATTACHMENTS_PER_POST))
    source = opened(app, files(MAX_ATTACHMENTS_PER_POST))

    outcome = merge(app, source, target)

    assert (outcome.result, outcome.refusal) == ("refused", Refusal.CONFLICT)
    assert f"more than {ATTACHMENTS_MAX} files" in (outcome.detail or "")
    assert app.get_ticket(source.ticket_id).merged_into is None


# -- history -----------------------------------------------------------------------------------------------------


def conversation_with_files(app: TicketsApplication) -> tuple[OpenTicket, dict[str, list[Attachment]]]:
    """A ticket whose every kind of post holds files: the opening, a public answer, an internal note, and a
    ticket merged in with a public post and an internal note of its own."""
    shared = {
        "opening": files(1, named="opening"),
        "answer": files(2, named="answer"),
        "note": files(1, named="note"),
        "merged opening": files(1, named="merged-opening"),
        "merged note": files(1, named="merged-note"),
    }
    opening = opened(app, shared["opening"])
    post(app, opening, STAFF, shared["answer"])
    post(app, opening, STAFF, shared["note"], visibility=Visibility.INTERNAL)
    source = opened(app, shared["merged opening"])
    post(app, source, STAFF, shared["merged note"], visibility=Visibility.INTERNAL)
    assert merge(app, source, opening).result == "committed"
    return opening, shared


async def test_the_handling_side_is_shown_the_files_of_every_post(
    app: TicketsApplication, client: httpx.AsyncClient
) -> None:
    opening, shared = conversation_with_files(app)

    response = await client.get(f"/v1/tickets/{opening.ticket_id}/history", headers=bearer(STAFF))

    assert response.status_code == 200
    timeline = response.json()["timeline"]
    assert attachment_ids(timeline) == [
        ids(shared["opening"]),
        ids(shared["answer"]),
        ids(shared["note"]),
        ids(shared["merged opening"]),
        ids(shared["merged note"]),
    ]
    first_file = timeline[0]["attachments"][0]
    assert first_file == shared["opening"][0].model_dump(mode="json")  # the metadata, never the bytes


async def test_the_requesting_side_is_shown_the_files_of_public_posts_only(
    app: TicketsApplication, client: httpx.AsyncClient
) -> None:
    opening, shared = conversation_with_files(app)

    response = await client.get(f"/v1/tickets/{opening.ticket_id}/history", headers=bearer(CUSTOMER))

    assert response.status_code == 200
    assert attachment_ids(response.json()["timeline"]) == [
        ids(shared["opening"]),
        ids(shared["answer"]),
        ids(shared["merged opening"]),
    ]
    hidden = {file.id for name in ("note", "merged note") for file in shared[name]}
    assert not any(file_id in response.text for file_id in hidden)
