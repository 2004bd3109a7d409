"""The threads projector keeps which ticket each number names: set when the ticket opens, moved only by a merge
(a redelivered open leaves it where the merge put it), never from what the relay did not sign."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from hostdesk_contracts.base import Channel, Priority, Side, Status
from hostdesk_contracts.events import ReplyPosted, TicketEvent, TicketMerged, TicketOpened, Visibility
from hostdesk_contracts.subjects import Subjects, event_headers, thread_merged_key, thread_number_key
from hostdesk_tickets.entrypoints.threads_projector import ThreadsProjector
from nats.js.errors import KeyWrongLastSequenceError

from tests.support import RELAY_SIGNER

from .test_directory import PROVIDER, TENANT
from .test_directory_projector import Bucket

SUBJECTS = Subjects("unit")
NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


class ThreadsBucket(Bucket):
    async def put(self, key: str, value: bytes) -> int:
        return self._write(key, value)

    async def create(self, key: str, value: bytes) -> int:
        if key in self.values:
            raise KeyWrongLastSequenceError
        return self._write(key, value)


class Delivered:
    def __init__(self, event: TicketEvent, *, signed: bool = True) -> None:
        self.subject = SUBJECTS.event(event.tenant, event)
        self.data = event.model_dump_json().encode()
        headers = event_headers(event, position=1)
        self.headers = RELAY_SIGNER.signed(self.subject, headers, self.data) if signed else headers
        self.settled: list[str] = []

    async def ack(self) -> None:
        self.settled.append("ack")


def envelope(ticket_id: uuid.UUID, version: int) -> dict[str, Any]:
    return {
        "event_id": f"{ticket_id}:{version}",
        "ticket_id": ticket_id,
        "tenant": TENANT,
        "version": version,
        "occurred_at": NOW,
        "actor": PROVIDER,
        "side": Side.REQUESTER,
    }


def opened(ticket_id: uuid.UUID, number: int) -> TicketOpened:
    return TicketOpened(
        **envelope(ticket_id, 1),
        number=number,
        subject="Site down",
        body="Since 3 am.",
        post_id="p1",
        requester=PROVIDER,
        status=Status.OPEN,
        priority=Priority.NORMAL,
        channel=Channel.EMAIL,
    )


def merged(ticket_id: uuid.UUID, into: uuid.UUID) -> TicketMerged:
    return TicketMerged(**envelope(ticket_id, 2), from_status=Status.OPEN, into_ticket_id=into, into_number=2)


async def projected(bucket: ThreadsBucket, *events: TicketEvent, signed: bool = True) -> list[Delivered]:
    projector = ThreadsProjector(js=None, bucket=bucket, subjects=SUBJECTS, signer=RELAY_SIGNER)  # type: ignore[arg-type]
    delivered = [Delivered(event, signed=signed) for event in events]
    await projector.handle_batch(delivered)  # type: ignore[arg-type]
    return delivered


def ticket_of(bucket: ThreadsBucket, key: str) -> str | None:
    value = bucket.values.get(key)
    return value[0].decode() if value else None


async def test_a_number_names_its_ticket_and_after_a_merge_the_ticket_it_went_into() -> None:
    bucket = ThreadsBucket()
    first, second = uuid.uuid4(), uuid.uuid4()

    delivered = await projected(bucket, opened(first, 1), opened(second, 2), merged(first, second))

    assert ticket_of(bucket, thread_number_key(TENANT, 1)) == str(second)
    assert ticket_of(bucket, thread_number_key(TENANT, 2)) == str(second)
    assert ticket_of(bucket, thread_merged_key(TENANT, first)) == str(second)
    assert all(each.settled == ["ack"] for each in delivered)


async def test_an_open_delivered_again_after_its_merge_leaves_the_number_where_the_merge_put_it() -> None:
    bucket = ThreadsBucket()
    first, second = uuid.uuid4(), uuid.uuid4()
    await projected(bucket, opened(first, 1), opened(second, 2), merged(first, second))

    await projected(bucket, opened(first, 1))

    assert ticket_of(bucket, thread_number_key(TENANT, 1)) == str(second)


async def test_what_the_relay_did_not_sign_and_other_events_name_nothing() -> None:
    bucket = ThreadsBucket()
    ticket_id = uuid.uuid4()
    reply = ReplyPosted(**envelope(ticket_id, 2), post_id="p2", body="x", visibility=Visibility.PUBLIC)

    delivered = await projected(bucket, opened(ticket_id, 7), signed=False)
    delivered += await projected(bucket, reply)

    assert bucket.values == {}
    assert all(each.settled == ["ack"] for each in delivered)
