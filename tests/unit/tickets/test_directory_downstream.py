"""The directory's events share the events stream with the tickets': query's projector and catch-up writer and
notify's consumer pass over them (acknowledged, no dead letter, no ticket moved), as the shared decoding reads
them: an event type that is no ticket event."""

from __future__ import annotations

from types import SimpleNamespace

from hostdesk_contracts.decoding import Unknown, decode_signed
from hostdesk_contracts.subjects import Subjects, directory_event_headers
from hostdesk_notify.adapters.memory import MemoryStore
from hostdesk_query.adapters.catchup_stream import StreamMessage
from hostdesk_query.adapters.memory import InMemoryReadModel
from hostdesk_query.service_layer.catchup_writer import CatchUpWriter, _Chunk

from tests.support import RELAY_SIGNER
from tests.unit.notify.test_consumer import FakeMessage, consumer_for
from tests.unit.query.test_projector import FakeDelivery, projector

from .test_directory_projector import changed

EVENT = changed(1)
SUBJECT = Subjects("tickets").directory_event(EVENT.tenant, EVENT)
DATA = EVENT.model_dump_json().encode()
HEADERS = directory_event_headers(EVENT, position=1)


def test_the_shared_decoding_reads_a_signed_directory_event_as_no_ticket_event() -> None:
    decoded = decode_signed(RELAY_SIGNER, SUBJECT, RELAY_SIGNER.signed(SUBJECT, HEADERS, DATA), DATA)

    assert decoded == Unknown(type="directory.account_changed.v1", envelope=None)


async def test_query_passes_over_a_directory_event_without_a_dead_letter() -> None:
    store = InMemoryReadModel()
    delivery = FakeDelivery(DATA, subject=SUBJECT, headers=dict(HEADERS))

    await projector(store).handle([delivery])

    assert delivery.settled == ["ack"]
    assert store.dead_letters == []


def test_querys_catch_up_skips_a_directory_event_without_a_dead_letter() -> None:
    writer = CatchUpWriter(
        None,  # type: ignore[arg-type]
        live=None,  # type: ignore[arg-type]
        start=SimpleNamespace(resume_seq=1, read_seq=0),  # type: ignore[arg-type]
        signer=RELAY_SIGNER,
        chunk_events=10,
        max_held=10,
    )
    chunk = _Chunk()

    writer._decode(
        StreamMessage(seq=5, subject=SUBJECT, data=DATA, headers=RELAY_SIGNER.signed(SUBJECT, HEADERS, DATA)), chunk
    )

    assert (chunk.events, chunk.letters, chunk.count, chunk.last_seq) == ([], [], 1, 5)


async def test_notify_passes_over_a_directory_event_without_a_dead_letter_or_a_mail() -> None:
    store = MemoryStore()
    message = FakeMessage(DATA, subject=SUBJECT, headers=dict(HEADERS))

    await consumer_for(store).handle_batch([message])  # type: ignore[list-item]

    assert message.answers == ["ack"]
    assert store.dead_letters == []
    assert (store._state.inbox, store._state.outbox) == (set(), {})  # nothing claimed, no mail queued
