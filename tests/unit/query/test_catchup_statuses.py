"""The catch-up reader and the statuses NATS answers pull requests with, as nats-server writes them on the wire
(server/consumer.go, jetstream.go, client.go of 2.9.0 to 2.15) and as nats-py parses them."""

from __future__ import annotations

import asyncio

import pytest
from hostdesk_query.adapters.catchup_statuses import STATUSES, Answer, answer_to
from hostdesk_query.adapters.catchup_stream import ReadInterrupted, ReadRefused, StreamRange
from nats.aio.client import Client
from nats.aio.msg import Msg

PENDING = "Nats-Pending-Messages: {n}\r\nNats-Pending-Bytes: {b}\r\n"

# (the header block nats-server sends, what it means to the reader)
WIRE: list[tuple[str, Answer]] = [
    ("NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 3\r\nNats-Last-Stream: 10\r\n\r\n", Answer.HEARTBEAT),
    ("NATS/1.0 100 FlowControl Request\r\n\r\n", Answer.HEARTBEAT),
    ("NATS/1.0 409 Batch Completed\r\n" + PENDING.format(n=0, b=4190000) + "\r\n", Answer.FILLED),
    ("NATS/1.0 409 Message Size Exceeds MaxBytes\r\n" + PENDING.format(n=500, b=900) + "\r\n", Answer.CLOSED),
    ("NATS/1.0 408 Requests Pending\r\n\r\n", Answer.NOT_QUEUED),
    ("NATS/1.0 408 Request Timeout\r\n" + PENDING.format(n=512, b=4194304) + "\r\n", Answer.ENDED),
    ("NATS/1.0 404 No Messages\r\n\r\n", Answer.ENDED),
    ("NATS/1.0 408 Interest Expired\r\n" + PENDING.format(n=12, b=0) + "\r\n", Answer.INTERRUPTED),
    ("NATS/1.0 409 Consumer Deleted\r\n\r\n", Answer.INTERRUPTED),
    ("NATS/1.0 409 Leadership Change\r\n\r\n", Answer.INTERRUPTED),
    ("NATS/1.0 409 Server Shutdown\r\n" + PENDING.format(n=3, b=0) + "\r\n", Answer.INTERRUPTED),
    ("NATS/1.0 409 Consumer is push based\r\n\r\n", Answer.INTERRUPTED),
    ("NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n", Answer.INTERRUPTED),
    ("NATS/1.0 423 Nats-Wrong-Pin-Id\r\n" + PENDING.format(n=1, b=0) + "\r\n", Answer.INTERRUPTED),
    ("NATS/1.0 423 Nats-Pin-Id mismatch\r\n\r\n", Answer.INTERRUPTED),
    ("NATS/1.0 503\r\n\r\n", Answer.INTERRUPTED),  # no responders, 2.9
    ("NATS/1.0 503\r\nNats-Subject: $JS.API.CONSUMER.MSG.NEXT.S.c\r\n\r\n", Answer.INTERRUPTED),  # and later
    ("NATS/1.0 409 Exceeded MaxRequestBatch of 100\r\n\r\n", Answer.REFUSED),
    ("NATS/1.0 409 Exceeded MaxRequestExpires of 1s\r\n\r\n", Answer.REFUSED),
    ("NATS/1.0 409 Exceeded MaxRequestMaxBytes of 1048576\r\n\r\n", Answer.REFUSED),
    ("NATS/1.0 400 Bad Request - invalid character 'x' looking for beginning of value\r\n\r\n", Answer.REFUSED),
    ("NATS/1.0 412 Required Api Level\r\n\r\n", Answer.REFUSED),
]


def parsed(wire: str) -> dict[str, str]:
    """The headers nats-py gives a message that came with this header block."""
    headers: dict[str, str] | None = asyncio.run(Client()._process_headers(wire.encode()))
    assert headers is not None
    return headers


def status(wire: str) -> Msg:
    return Msg(Client(), subject="_INBOX.catchup", reply="", data=b"", headers=parsed(wire))


def message(stream_seq: int, consumer_seq: int, pending: int) -> Msg:
    reply = f"$JS.ACK.EVENTS.rm-catchup.1.{stream_seq}.{consumer_seq}.1700000000000000000.{pending}"
    return Msg(Client(), subject="tickets.events.acme.opened.v1", reply=reply, data=b"{}", headers={})


def reader(*, first: int = 1, last: int = 100, open_requests: tuple[int, ...] = (4, 4)) -> StreamRange:
    stream_range = StreamRange(
        Client(), stream="EVENTS", filter_subject="tickets.events.>", first=first, last=last, batch=4, name="rm-catchup"
    )
    stream_range._open.extend(open_requests)
    return stream_range


@pytest.mark.parametrize(("wire", "answer"), WIRE, ids=[wire.split("\r\n")[0][9:] for wire, _ in WIRE])
def test_every_status_of_a_pull_request_has_its_answer(wire: str, answer: Answer) -> None:
    headers = parsed(wire)

    assert answer_to(headers["Status"], headers.get("Description", ""))[0] is answer


def test_every_status_of_the_table_is_one_the_server_sends() -> None:
    sent = {(headers["Status"], headers.get("Description", "")) for headers in map(parsed, (w for w, _ in WIRE))}

    for entry in STATUSES:
        assert any(code == entry.code and text.startswith(entry.description) for code, text in sent), entry
    assert len({(entry.code, entry.description) for entry in STATUSES}) == len(STATUSES)
    assert all(entry.why for entry in STATUSES)


def test_a_status_no_server_sends_yet_interrupts_the_read() -> None:
    assert answer_to("409", "Something New")[0] is Answer.INTERRUPTED
    assert answer_to("", "")[0] is Answer.INTERRUPTED


def test_a_request_filled_by_its_count_leaves_the_other_open_and_the_range_going() -> None:
    """On 2.10 and later a request that got its count with bytes to spare ends with a 409 Batch Completed."""
    stream_range = reader()
    batch_completed = status("NATS/1.0 409 Batch Completed\r\n" + PENDING.format(n=0, b=9000) + "\r\n")

    taken = stream_range._take([message(seq, seq, 100 - seq) for seq in range(1, 5)] + [batch_completed])
    more = stream_range._take([message(5, 5, 95)])

    assert [m.seq for m in taken + more] == [1, 2, 3, 4, 5]
    assert stream_range.open_requests == (3,)


def test_a_request_closed_by_its_bytes_is_forgotten_and_the_next_one_counts_on() -> None:
    stream_range = reader()
    max_bytes = status("NATS/1.0 409 Message Size Exceeds MaxBytes\r\n" + PENDING.format(n=2, b=10) + "\r\n")

    taken = stream_range._take([message(1, 1, 99), message(2, 2, 98), max_bytes, message(3, 3, 97)])

    assert [m.seq for m in taken] == [1, 2, 3]
    assert stream_range.open_requests == (3,)


def test_a_request_turned_down_before_it_waited_is_the_newest() -> None:
    stream_range = reader()

    stream_range._take([message(1, 1, 99), status("NATS/1.0 408 Requests Pending\r\n\r\n")])

    assert stream_range.open_requests == (3,)


def test_heartbeats_change_nothing() -> None:
    stream_range = reader()

    taken = stream_range._take([status(WIRE[0][0]), message(1, 1, 99)])

    assert [m.seq for m in taken] == [1]
    assert stream_range.open_requests == (3, 4)


def test_a_request_that_expired_unfilled_ends_the_range() -> None:
    stream_range = reader()
    timeout = status("NATS/1.0 408 Request Timeout\r\n" + PENDING.format(n=4, b=0) + "\r\n")

    taken = stream_range._take([message(1, 1, 1), timeout, message(2, 2, 0)])

    assert [m.seq for m in taken] == [1]
    assert stream_range.done


@pytest.mark.parametrize(
    "wire", [wire for wire, answer in WIRE if answer is Answer.INTERRUPTED], ids=lambda wire: wire.split("\r\n")[0][9:]
)
def test_a_consumer_gone_or_not_ours_interrupts_the_read(wire: str) -> None:
    with pytest.raises(ReadInterrupted, match="rm-catchup answered"):
        reader()._take([message(1, 1, 99), status(wire)])


@pytest.mark.parametrize(
    "wire", [wire for wire, answer in WIRE if answer is Answer.REFUSED], ids=lambda wire: wire.split("\r\n")[0][9:]
)
def test_a_request_every_consumer_would_refuse_is_not_read_again(wire: str) -> None:
    with pytest.raises(ReadRefused, match="rm-catchup answered 4"):
        reader()._take([status(wire)])


def test_the_end_of_the_range_is_the_last_message_asked_for_or_nothing_pending() -> None:
    up_to_five = reader(last=5)
    assert [m.seq for m in up_to_five._take([message(4, 1, 10), message(5, 2, 9), message(6, 3, 8)])] == [4, 5]
    assert up_to_five.done

    nothing_after = reader()
    assert [m.seq for m in nothing_after._take([message(1, 1, 0), message(2, 2, 0)])] == [1]
    assert nothing_after.done
