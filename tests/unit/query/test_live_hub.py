import asyncio
import gc
import uuid
from datetime import UTC, datetime

import pytest
from hostdesk_contracts.access import Reach, reach_of
from hostdesk_contracts.base import Role, Visibility
from hostdesk_devtools.stories import TicketStory, account
from hostdesk_query.domain.live import ChangeKind, LiveChange, kind_of, told_to
from hostdesk_query.service_layer.live_hub import LiveHub, Ping, Stream, TooManyStreams

TENANT = "tenant-live"
CUSTOMER, AGENT, STRANGER = account(TENANT), account(TENANT, Role.AGENT), account(TENANT)


def change(seq: int, kind: ChangeKind = ChangeKind.POSTED, *, requester: str = CUSTOMER.account_id) -> LiveChange:
    return LiveChange(
        seq=seq,
        kind=kind,
        handling_only=kind in (ChangeKind.NOTED, ChangeKind.ASSIGNED),
        ticket_id=uuid.UUID(int=seq),
        number=100_000 + seq,
        version=seq,
        occurred_at=datetime(2026, 3, 2, tzinfo=UTC),
        tenant=TENANT,
        requester_id=requester,
        handling_organisation_id=None,
        department=None,
    )


async def drained(stream: Stream) -> list[int]:
    seqs = []
    while True:
        try:
            async with asyncio.timeout(0.01):
                got = await stream.next()
        except TimeoutError:
            return seqs
        seqs.append(-1 if got is None else 0 if isinstance(got, Ping) else got.seq)


def test_the_kind_of_each_event_and_whose_it_is() -> None:
    story = TicketStory(CUSTOMER)
    assert kind_of(story.opened()) == (ChangeKind.OPENED, False)
    assert kind_of(story.reply(AGENT, "Internal.", visibility=Visibility.INTERNAL)) == (ChangeKind.NOTED, True)
    assert kind_of(story.reply(AGENT)) == (ChangeKind.POSTED, False)
    assert kind_of(story.assign(AGENT, AGENT)) == (ChangeKind.ASSIGNED, True)
    assert kind_of(story.tags_change(AGENT, ("vip",))) == (ChangeKind.UPDATED, True)
    assert kind_of(story.close(AGENT)) == (ChangeKind.STATUS, False)


@pytest.mark.parametrize(
    ("reach", "public", "internal"),
    [
        (reach_of(CUSTOMER), True, False),
        (reach_of(AGENT), True, True),
        (reach_of(STRANGER), False, False),
        (Reach(tenant="elsewhere", account_id=AGENT.account_id, handles="elsewhere"), False, False),
    ],
)
def test_a_change_is_told_by_the_rule_of_every_read(reach: Reach, public: bool, internal: bool) -> None:
    assert told_to(reach, change(1)) is public
    assert told_to(reach, change(2, ChangeKind.NOTED)) is internal


async def test_a_stream_that_reconnects_is_told_every_change_after_its_last_once_then_the_new_ones() -> None:
    hub = LiveHub(buffer=10, queue=10, per_caller=5)
    hub.started_at(1)
    for seq in range(1, 6):
        hub.publish(change(seq, ChangeKind.NOTED if seq == 4 else ChangeKind.POSTED))

    stream = hub.open(reach_of(CUSTOMER), after=2)
    hub.publish(change(6))
    hub.passed(7)
    hub.publish(change(8, requester=STRANGER.account_id))

    assert not stream.resync
    assert await drained(stream) == [3, 5, 6]  # never the note (4), nor the stranger's (8)


async def test_a_stream_whose_last_change_is_no_longer_kept_is_told_to_read_again() -> None:
    hub = LiveHub(buffer=3, queue=10, per_caller=5)
    hub.started_at(1)
    for seq in range(1, 7):
        hub.publish(change(seq))

    assert hub.open(reach_of(CUSTOMER), after=2).resync  # 3 is gone: only 4, 5 and 6 are kept
    assert not hub.open(reach_of(CUSTOMER), after=3).resync
    assert not hub.open(reach_of(CUSTOMER), after=6).resync
    late = LiveHub(buffer=3, queue=10, per_caller=5)
    late.started_at(50)  # a replica started since: what came before 50 it never read
    late.publish(change(50))
    assert late.open(reach_of(CUSTOMER), after=20).resync


async def test_a_slow_stream_overflows_and_ends_instead_of_holding_more() -> None:
    hub = LiveHub(buffer=10, queue=2, per_caller=5)
    hub.started_at(1)
    stream = hub.open(reach_of(CUSTOMER), after=None)
    for seq in range(1, 5):
        hub.publish(change(seq))

    assert stream.overflowed
    assert await drained(stream) == [1, 2, -1]


async def test_a_caller_holds_at_most_so_many_streams_and_one_dropped_unclosed_is_forgotten() -> None:
    hub = LiveHub(buffer=10, queue=2, per_caller=2)
    first = hub.open(reach_of(CUSTOMER), after=None)
    second = hub.open(reach_of(CUSTOMER), after=None)
    hub.open(reach_of(AGENT), after=None)  # another caller's

    with pytest.raises(TooManyStreams):
        hub.open(reach_of(CUSTOMER), after=None)
    hub.close(first)
    hub.open(reach_of(CUSTOMER), after=None)  # dropped at once: nothing holds it
    del second
    gc.collect()
    hub.open(reach_of(CUSTOMER), after=None)


async def test_only_a_stream_told_nothing_since_the_last_ping_is_pinged_and_never_ahead_of_a_change() -> None:
    hub = LiveHub(buffer=10, queue=10, per_caller=5)
    hub.started_at(1)
    idle, busy, waiting = (hub.open(reach_of(CUSTOMER), after=None) for _ in range(3))
    hub.ping_idle()  # nothing told yet: every stream pinged once
    assert [await drained(stream) for stream in (idle, busy, waiting)] == [[0], [0], [0]]

    hub.publish(change(1))
    assert [await drained(stream) for stream in (busy, waiting)] == [[1], [1]]  # idle has not read its change
    hub.ping_idle()  # all three were told something since
    hub.ping_idle()  # told nothing since, but idle still has its change waiting: no ping behind it
    assert [await drained(stream) for stream in (idle, busy, waiting)] == [[1], [0], [0]]


async def test_what_waits_already_is_taken_at_once_up_to_the_end_of_an_overflowed_stream() -> None:
    hub = LiveHub(buffer=10, queue=2, per_caller=5)
    hub.started_at(1)
    stream = hub.open(reach_of(CUSTOMER), after=None)
    for seq in range(1, 5):
        hub.publish(change(seq))

    first = await stream.next()
    assert isinstance(first, LiveChange)
    assert first.seq == 1
    assert [getattr(told, "seq", told) for told in stream.waiting()] == [2, None]
    assert stream.waiting() == []


async def test_the_hub_pings_idle_streams_on_its_own_until_stopped() -> None:
    hub, stopping = LiveHub(buffer=10, queue=10, per_caller=5), asyncio.Event()
    stream = hub.open(reach_of(CUSTOMER), after=None)
    pinging = asyncio.create_task(hub.ping_idle_every(0.01, stopping))
    async with asyncio.timeout(5):
        assert isinstance(await stream.next(), Ping)
    stopping.set()
    await asyncio.wait_for(pinging, timeout=5)
