"""What the consumer answers JetStream for each kind of message, with fake messages and a fake store."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from hostdesk_contracts.subjects import Subjects
from hostdesk_notify.adapters.memory import MemoryStore
from hostdesk_notify.adapters.nats_consumer import ConsumerSettings, EventConsumer
from hostdesk_notify.domain.decoding import KnownEvent
from hostdesk_notify.service_layer.handlers import Handled, MailSettings, handle_event

from tests.unit.notify.builders import NOW, TicketStory

SETTINGS = ConsumerSettings(max_deliver=5, unseen_ticket_delay=0.5, transient_delay=2.0)


@dataclass
class FakeMessage:
    data: bytes
    num_delivered: int = 1
    subject: str = "tickets.events.acme.reply_posted.v1"
    headers: dict[str, str] = field(default_factory=lambda: {"Nats-Msg-Id": "x"})
    answers: list[str] = field(default_factory=list)

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


class Woken:
    def __init__(self) -> None:
        self.times = 0

    def __call__(self) -> None:
        self.times += 1


def consumer_for(store: MemoryStore, woken: Woken | None = None, *, database_down: bool = False) -> EventConsumer:
    async def handle(event: KnownEvent) -> Handled:
        if database_down:
            raise ConnectionRefusedError("PostgreSQL is restarting")
        return await handle_event(event, store=store, settings=MailSettings("en", "h.test"), now=NOW)

    return EventConsumer(
        js=None,  # never fetches in these tests
        subjects=Subjects(),
        store=store,
        handle=handle,
        on_queued=woken or Woken(),
        settings=SETTINGS,
    )


async def test_an_event_whose_mails_are_queued_is_acknowledged_and_wakes_the_sender() -> None:
    store, woken, story = MemoryStore(), Woken(), TicketStory()
    consumer = consumer_for(store, woken)
    await consumer.process(FakeMessage(story.opened().model_dump_json().encode()))
    reply = FakeMessage(story.staff_reply().model_dump_json().encode())

    await consumer.process(reply)

    assert (reply.answers, woken.times) == (["ack"], 1)


async def test_garbage_is_dead_lettered_with_its_bytes_and_terminated() -> None:
    store = MemoryStore()
    garbage = FakeMessage(b"{not json")

    await consumer_for(store).process(garbage)

    assert garbage.answers == ["term"]
    [letter] = store.dead_letters
    assert (letter.payload, letter.stream_seq, letter.headers) == (b"{not json", 7, {"Nats-Msg-Id": "x"})


async def test_an_event_type_from_a_newer_publisher_is_acknowledged_and_not_dead_lettered() -> None:
    store = MemoryStore()
    newer = FakeMessage(b'{"type": "ticket.escalated.v1"}')

    await consumer_for(store).process(newer)

    assert (newer.answers, store.dead_letters) == (["ack"], [])


async def test_a_reply_to_a_ticket_not_seen_yet_comes_back_after_a_short_delay() -> None:
    reply = FakeMessage(TicketStory().staff_reply().model_dump_json().encode())

    await consumer_for(MemoryStore()).process(reply)

    assert reply.answers == ["nak 0.5"]


async def test_a_reply_whose_ticket_never_shows_up_is_dead_lettered_at_its_last_delivery() -> None:
    store = MemoryStore()
    reply = FakeMessage(TicketStory().staff_reply().model_dump_json().encode(), num_delivered=SETTINGS.max_deliver)

    await consumer_for(store).process(reply)

    assert reply.answers == ["term"]
    assert "an earlier event of its ticket never came" in store.dead_letters[0].error


async def test_an_unreachable_database_hands_the_message_back_and_says_so() -> None:
    message = FakeMessage(TicketStory().opened().model_dump_json().encode())

    handled = await consumer_for(MemoryStore(), database_down=True).process(message)

    assert (handled, message.answers) == (False, ["nak 2.0"])


class ScriptedSubscription:
    """One fetch of ``messages``, then the consumer is told to stop."""

    def __init__(self, consumer: EventConsumer, messages: list[FakeMessage]) -> None:
        self.consumer, self.messages = consumer, messages

    async def fetch(self, batch: int, timeout: float) -> list[FakeMessage]:  # noqa: ASYNC109 - nats-py's signature
        self.consumer.stop()
        messages, self.messages = self.messages, []
        return messages


def on_ticket(event: Any) -> FakeMessage:
    return FakeMessage(event.model_dump_json().encode(), headers={"Ticket-Id": str(event.ticket_id)})


async def test_a_batch_is_handled_ticket_by_ticket_each_in_order_while_tickets_overlap() -> None:
    store = MemoryStore()
    first, second = TicketStory(), TicketStory()
    messages = [on_ticket(e) for e in (first.opened(), first.staff_reply(), second.opened(), second.staff_reply())]
    started: list[str] = []
    consumer = consumer_for(store)
    handle = consumer._handle

    async def observed(event: KnownEvent) -> Handled:
        started.append(f"{event.ticket_id}:{event.version}")
        await asyncio.sleep(0)  # let another ticket's handling begin meanwhile
        return await handle(event)

    consumer._handle = observed

    await consumer._pump(ScriptedSubscription(consumer, messages))  # type: ignore[arg-type]

    assert [message.answers for message in messages] == [["ack"]] * 4  # no reply came before its opening
    one, two = (f"{story.ticket_id}:1" for story in (first, second))
    assert started[:2] == [one, two]  # the second ticket did not wait for the first one's reply


async def test_an_unreachable_database_hands_back_the_rest_of_that_ticket_in_order() -> None:
    story = TicketStory()
    messages = [on_ticket(story.opened()), on_ticket(story.staff_reply())]
    consumer = consumer_for(MemoryStore(), database_down=True)

    await consumer._pump(ScriptedSubscription(consumer, messages))  # type: ignore[arg-type]

    assert [message.answers for message in messages] == [["nak 2.0"], ["nak 2.0"]]
