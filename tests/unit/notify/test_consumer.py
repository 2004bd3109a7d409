"""What notify answers JetStream for each kind of message, with fake messages and a fake store."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from hostdesk_contracts.directory import StaffRecord
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.consumer import DurableConsumer, Redelivery
from hostdesk_contracts.runtime.dead_letters import Replayed
from hostdesk_contracts.runtime.directory import DirectoryUnavailable, MemoryDirectory
from hostdesk_devtools.stories import TicketStory
from hostdesk_notify.adapters.memory import MemoryStore
from hostdesk_notify.entrypoints.events import TicketEvents
from hostdesk_notify.service_layer.handlers import Handled, MailSettings, handle_event
from hostdesk_notify.service_layer.replay import replay

from tests.support import RELAY_SIGNER
from tests.unit.notify.builders import NOW, REQUESTER, STAFF

REDELIVERY = Redelivery(max_deliver=5, first_delay=0.5, max_delay=4.0)
SETTINGS = MailSettings("en", "h.test")


@dataclass
class FakeMessage:
    data: bytes
    num_delivered: int = 1
    subject: str = "tickets.events.acme.reply_posted.v1"
    headers: dict[str, str] = field(default_factory=lambda: {"Nats-Msg-Id": "x"})
    answers: list[str] = field(default_factory=list)
    progress: int = 0
    signed: bool = True  # as the relay publishes it; False: a message of someone else's

    def __post_init__(self) -> None:
        if self.signed:
            self.headers = RELAY_SIGNER.signed(self.subject, self.headers, self.data)

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(
            num_delivered=self.num_delivered, stream="TICKETS_EVENTS", sequence=SimpleNamespace(stream=7)
        )

    async def ack(self) -> None:
        self.answers.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.answers.append(f"nak {delay}")

    async def term(self) -> None:
        self.answers.append("term")

    async def in_progress(self) -> None:
        self.progress += 1


class Woken:
    def __init__(self) -> None:
        self.times = 0

    def __call__(self) -> None:
        self.times += 1


class UnreadableDirectory(MemoryDirectory):
    """A directory whose bucket cannot be read for its first ``failures`` look-ups of an organisation's staff."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def staff_of(self, organisation_id: str) -> tuple[StaffRecord, ...]:
        if self.failures:
            self.failures -= 1
            raise DirectoryUnavailable("the directory bucket cannot be read (TimeoutError)")
        return await super().staff_of(organisation_id)


def consumer_for(
    store: MemoryStore,
    woken: Woken | None = None,
    *,
    database_down_for: int = 0,
    directory: MemoryDirectory | None = None,
) -> TicketEvents:
    """``database_down_for``: how many attempts find PostgreSQL away before it answers again."""
    down = [database_down_for]
    directory = directory or MemoryDirectory()

    async def handle(event: TicketEvent) -> Handled:
        if down[0]:
            down[0] -= 1
            raise ConnectionRefusedError("PostgreSQL is restarting")
        return await handle_event(
            event, store=store, directory=directory, settings=MailSettings("en", "h.test"), now=NOW
        )

    return TicketEvents(
        store=store,
        handle=handle,
        on_queued=woken or Woken(),
        redelivery=REDELIVERY,
        signer=RELAY_SIGNER,
        stopping=asyncio.Event(),
    )


async def test_an_event_whose_mails_are_queued_is_acknowledged_and_wakes_the_sender() -> None:
    store, woken, story = MemoryStore(), Woken(), TicketStory(REQUESTER)
    consumer = consumer_for(store, woken)
    await consumer.process(FakeMessage(story.opened().model_dump_json().encode()))
    reply = FakeMessage(story.reply(STAFF).model_dump_json().encode())

    await consumer.process(reply)

    assert (reply.answers, woken.times) == (["ack"], 1)


async def test_garbage_is_dead_lettered_with_its_bytes_and_terminated() -> None:
    store = MemoryStore()
    garbage = FakeMessage(b"{not json")

    await consumer_for(store).process(garbage)

    assert garbage.answers == ["term"]
    [letter] = store.dead_letters
    assert (letter.data, letter.stream_seq, letter.headers) == (b"{not json", 7, garbage.headers)


async def test_an_event_the_relay_did_not_sign_mails_nobody_and_is_dead_lettered() -> None:
    store, woken, story = MemoryStore(), Woken(), TicketStory(REQUESTER)
    consumer = consumer_for(store, woken)
    forged = FakeMessage(story.opened().model_dump_json().encode(), signed=False)

    await consumer.process(forged)

    assert (forged.answers, woken.times) == (["term"], 0)
    [letter] = store.dead_letters
    assert "not signed by the relay" in letter.error


async def test_an_event_type_from_a_newer_publisher_is_acknowledged_and_not_dead_lettered() -> None:
    store = MemoryStore()
    newer = FakeMessage(b'{"type": "ticket.escalated.v1"}')

    await consumer_for(store).process(newer)

    assert (newer.answers, store.dead_letters) == (["ack"], [])


async def test_an_event_type_from_a_newer_publisher_moves_its_ticket_on_so_the_next_event_is_not_held_back() -> None:
    store, woken, story = MemoryStore(), Woken(), TicketStory(REQUESTER)
    consumer = consumer_for(store, woken)
    await consumer.process(FakeMessage(story.opened().model_dump_json().encode()))
    newer = story.reply(STAFF).model_dump(mode="json") | {"type": "ticket.escalated.v1"}
    await consumer.process(FakeMessage(json.dumps(newer).encode()))
    reply = FakeMessage(story.reply(STAFF).model_dump_json().encode())

    await consumer.process(reply)

    assert (reply.answers, woken.times, store.dead_letters) == (["ack"], 1, [])


async def test_a_reply_to_a_ticket_not_seen_yet_comes_back_later_at_each_delivery_up_to_the_longest_delay() -> None:
    delays = []
    for deliveries in range(1, REDELIVERY.max_deliver):
        reply = FakeMessage(TicketStory(REQUESTER).reply(STAFF).model_dump_json().encode(), num_delivered=deliveries)
        await consumer_for(MemoryStore()).process(reply)
        delays.extend(reply.answers)

    assert delays == ["nak 0.5", "nak 1.0", "nak 2.0", "nak 4.0"]


async def test_a_reply_whose_ticket_never_shows_up_is_dead_lettered_at_its_last_delivery() -> None:
    store = MemoryStore()
    reply = FakeMessage(
        TicketStory(REQUESTER).reply(STAFF).model_dump_json().encode(), num_delivered=REDELIVERY.max_deliver
    )

    await consumer_for(store).process(reply)

    assert reply.answers == ["term"]
    assert "an earlier event of ticket" in store.dead_letters[0].error
    assert "never came" in store.dead_letters[0].error


def test_a_wait_for_an_earlier_event_shorter_than_two_ack_waits_is_refused() -> None:
    with pytest.raises(ValueError, match="less than twice the ack wait"):
        DurableConsumer(stream="S", name="notify", filter_subject="s.>", ack_wait=30.0, redelivery=REDELIVERY)


def test_the_default_wait_for_an_earlier_event_outlasts_two_ack_waits() -> None:
    durable = DurableConsumer(stream="S", name="notify", filter_subject="s.>")

    assert durable.redelivery.patience >= 2 * durable.ack_wait


async def test_an_unreachable_database_holds_the_message_in_progress_and_handles_it_once_back() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    message = FakeMessage(story.opened().model_dump_json().encode())

    handled = await consumer_for(store, database_down_for=3).process(message)

    assert (handled, message.answers, message.progress) == (True, ["ack"], 3)
    assert await store.ticket_of_tenant(story.ticket_id, story.tenant) is not None


async def test_a_directory_that_cannot_be_read_holds_the_event_and_records_nothing_until_it_can() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    message = FakeMessage(story.opened().model_dump_json().encode())
    directory = UnreadableDirectory(failures=2)

    handled = await consumer_for(store, directory=directory).process(message)

    assert (handled, message.answers, message.progress) == (True, ["ack"], 2)
    assert len(store.outbox) == 1  # addressed once, when the directory answered: nobody to mail in this tenant
    assert directory.failures == 0


async def test_a_directory_unreadable_when_asked_to_stop_leaves_the_message_unsettled_and_records_nothing() -> None:
    store, message = MemoryStore(), FakeMessage(TicketStory(REQUESTER).opened().model_dump_json().encode())
    consumer = consumer_for(store, directory=UnreadableDirectory(failures=1_000))
    consumer._stopping.set()

    handled = await consumer.process(message)

    assert (handled, message.answers, store.inbox, store.outbox) == (False, [], set(), [])


async def test_a_database_away_when_asked_to_stop_leaves_the_message_unsettled_to_come_back() -> None:
    message = FakeMessage(TicketStory(REQUESTER).opened().model_dump_json().encode())
    consumer = consumer_for(MemoryStore(), database_down_for=1_000)
    consumer._stopping.set()

    handled = await consumer.process(message)

    assert (handled, message.answers) == (False, [])


def on_ticket(event: Any) -> FakeMessage:
    return FakeMessage(event.model_dump_json().encode(), headers={"Ticket-Id": str(event.ticket_id)})


async def test_a_batch_is_handled_ticket_by_ticket_each_in_order_while_tickets_overlap() -> None:
    store = MemoryStore()
    first, second = TicketStory(REQUESTER), TicketStory(REQUESTER)
    messages = [on_ticket(e) for e in (first.opened(), first.reply(STAFF), second.opened(), second.reply(STAFF))]
    started: list[str] = []
    consumer = consumer_for(store)
    handle = consumer._handle

    async def observed(event: TicketEvent) -> Handled:
        started.append(f"{event.ticket_id}:{event.version}")
        await asyncio.sleep(0)  # let another ticket's handling begin meanwhile
        return await handle(event)

    consumer._handle = observed

    await consumer.handle_batch(messages)  # type: ignore[arg-type]

    assert [message.answers for message in messages] == [["ack"]] * 4  # no reply came before its opening
    one, two = (f"{story.ticket_id}:1" for story in (first, second))
    assert started[:2] == [one, two]  # the second ticket did not wait for the first one's reply


async def test_an_unreachable_database_holds_the_rest_of_that_ticket_too_and_handles_it_in_order() -> None:
    store, story = MemoryStore(), TicketStory(REQUESTER)
    messages = [on_ticket(story.opened()), on_ticket(story.reply(STAFF))]

    await consumer_for(store, database_down_for=2).handle_batch(messages)  # type: ignore[arg-type]

    assert [(message.answers, message.progress) for message in messages] == [(["ack"], 2), (["ack"], 2)]


async def test_a_dead_letter_replayed_once_its_ticket_is_seen_is_mailed_and_no_longer_kept() -> None:
    store, woken, story = MemoryStore(), Woken(), TicketStory(REQUESTER)
    consumer = consumer_for(store, woken)
    opening, reply = story.opened(), story.reply(STAFF)
    await consumer.process(FakeMessage(reply.model_dump_json().encode(), num_delivered=REDELIVERY.max_deliver))
    await consumer.process(FakeMessage(b"{not json"))
    garbage_letter, waiting_letter = await store.kept_letters(subject_prefix="tickets.events.acme.", limit=10)

    async def handle(event: TicketEvent) -> Handled:
        return await handle_event(event, store=store, directory=MemoryDirectory(), settings=SETTINGS, now=NOW)

    too_soon = await replay(store, handle, RELAY_SIGNER, garbage_letter, on_queued=woken)
    await consumer.process(FakeMessage(opening.model_dump_json().encode()))
    mailed = await replay(store, handle, RELAY_SIGNER, waiting_letter, on_queued=woken)
    left = await store.kept_letters(subject_prefix="tickets.events.acme.", limit=10)

    assert too_soon.outcome is Replayed.UNDECODABLE
    assert (mailed.outcome, mailed.error) == (Replayed.APPLIED, None)
    assert [kept.id for kept in left] == [garbage_letter.id]
    assert any(row.mail.event_id == reply.event_id for row in store.outbox)  # the reply's mail, once replayed
    assert woken.times >= 1
