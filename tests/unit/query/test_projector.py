import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hostdesk_contracts.base import Role, Status
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.runtime.consumer import Redelivery
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_query.adapters.memory import InMemoryReadModel
from hostdesk_query.adapters.ports import DeadLetter, Outcome, Rejected, StoreUnavailable
from hostdesk_query.domain.projection import Change
from hostdesk_query.service_layer.projector import Projector

from tests.support import RELAY_SIGNER

TENANT = "acme"
AGENT = account(TENANT, Role.AGENT)
POLICY = Redelivery(max_deliver=5, first_delay=0.5, max_delay=4.0)


@dataclass
class FakeDelivery:
    data: bytes
    subject: str = "tickets.events.acme.x"
    headers: Mapping[str, str] = field(default_factory=dict)
    deliveries: int = 1
    stream_seq: int | None = 1
    settled: list[str] = field(default_factory=list)
    progress: int = 0
    signed: bool = True  # as the relay publishes it; False: a message of someone else's

    def __post_init__(self) -> None:
        if self.signed:
            self.headers = RELAY_SIGNER.signed(self.subject, self.headers, self.data)

    async def ack(self) -> None:
        self.settled.append("ack")

    async def nak(self, delay: float) -> None:
        self.settled.append(f"nak {delay}")

    async def term(self) -> None:
        self.settled.append("term")

    async def in_progress(self) -> None:
        self.progress += 1


def delivery(event: TicketEvent, deliveries: int = 1) -> FakeDelivery:
    return FakeDelivery(event.model_dump_json().encode(), deliveries=deliveries)


class FlakyStore(InMemoryReadModel):
    """Unavailable for the first ``failures`` calls."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def apply(self, changes: Sequence[Change]) -> list[Outcome]:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("connection refused")
        return await super().apply(changes)


class RefusingStore(InMemoryReadModel):
    async def apply(self, changes: Sequence[Change]) -> list[Outcome]:
        return [Rejected("value out of int64 range") for _ in changes]


def projector(store: InMemoryReadModel) -> Projector:
    return Projector(
        store, redelivery=POLICY, signer=RELAY_SIGNER, stopping=asyncio.Event(), store_retry_max_seconds=0.05
    )


async def test_applied_events_are_acknowledged() -> None:
    store = InMemoryReadModel()
    story = TicketStory(account(TENANT))
    batch = [delivery(story.opened()), delivery(story.reply(AGENT))]

    await projector(store).handle(batch)

    assert [d.settled for d in batch] == [["ack"], ["ack"]]
    assert store.tickets[story.ticket_id].version == 2


async def test_a_duplicate_is_acknowledged_and_changes_nothing() -> None:
    store = InMemoryReadModel()
    story = TicketStory(account(TENANT))
    opened = story.opened()
    await projector(store).handle([delivery(opened)])
    again = delivery(opened, deliveries=2)

    await projector(store).handle([again])

    assert again.settled == ["ack"]
    assert list(store.timeline[story.ticket_id]) == [(1, 0)]


async def test_an_event_ahead_of_its_ticket_comes_back_after_a_growing_delay() -> None:
    store = InMemoryReadModel()
    story = TicketStory(account(TENANT))
    story.opened()
    early = delivery(story.reply(AGENT), deliveries=3)

    await projector(store).handle([early])

    assert early.settled == ["nak 2.0"]
    assert store.tickets == {}


async def test_an_event_still_ahead_of_its_ticket_on_its_last_delivery_is_dead_lettered() -> None:
    store = InMemoryReadModel()
    story = TicketStory(account(TENANT))
    story.opened()
    early = delivery(story.reply(AGENT), deliveries=POLICY.max_deliver)

    await projector(store).handle([early])

    assert early.settled == ["term"]
    (letter,) = store.dead_letters
    assert "never reached version 1" in letter.error


async def test_garbage_is_dead_lettered_and_the_events_behind_it_still_apply() -> None:
    store = InMemoryReadModel()
    story = TicketStory(account(TENANT))
    garbage = FakeDelivery(b"\x00\x01 not an event", stream_seq=7)
    batch = [delivery(story.opened()), garbage, delivery(story.status_change(AGENT, Status.IN_PROGRESS))]

    await projector(store).handle(batch)

    assert [d.settled for d in batch] == [["ack"], ["term"], ["ack"]]
    assert store.dead_letters == [
        DeadLetter(
            subject=garbage.subject,
            data=garbage.data,
            headers=garbage.headers,
            error=store.dead_letters[0].error,
            stream_seq=7,
            deliveries=1,
        )
    ]
    assert store.tickets[story.ticket_id].status is Status.IN_PROGRESS


async def test_an_event_of_an_unknown_type_without_an_envelope_is_acknowledged() -> None:
    store = InMemoryReadModel()
    unknown = FakeDelivery(b'{"type": "ticket.escalated.v1"}')

    await projector(store).handle([unknown])

    assert unknown.settled == ["ack"]
    assert store.dead_letters == []


async def test_an_event_the_database_refuses_is_dead_lettered() -> None:
    store = RefusingStore()
    refused = delivery(TicketStory(account(TENANT)).opened())

    await projector(store).handle([refused])

    assert refused.settled == ["term"]
    assert "int64" in store.dead_letters[0].error


async def test_a_batch_is_held_while_the_store_is_down_and_applied_once_it_is_back() -> None:
    store = FlakyStore(failures=2)
    story = TicketStory(account(TENANT))
    held = delivery(story.opened())

    await projector(store).handle([held])

    assert held.progress == 2
    assert held.settled == ["ack"]
    assert store.tickets[story.ticket_id].version == 1


async def test_an_event_the_relay_did_not_sign_is_dead_lettered_and_changes_nothing() -> None:
    story = TicketStory(account(TENANT, Role.CUSTOMER))
    store = InMemoryReadModel()
    opened = delivery(story.opened())
    forged = FakeDelivery(story.reply(AGENT, "Forged answer").model_dump_json().encode(), signed=False)
    altered = delivery(story.reply(AGENT, "Real answer"))
    altered.data = altered.data.replace(b"Real answer", b"Fake answer")

    await projector(store).handle([opened, forged, altered])

    assert opened.settled == ["ack"]
    assert (forged.settled, altered.settled) == (["term"], ["term"])
    assert [letter.error for letter in store.dead_letters] == [
        "not signed by the relay (no Hostdesk-Signature header): not from the tickets service's log",
        "the relay's signature does not match: the message was forged or altered",
    ]
    assert store.tickets[story.ticket_id].version == 1
