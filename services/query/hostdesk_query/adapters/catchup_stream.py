"""Reading a range of the events stream in bulk, without acknowledgements, for the catch-up.

An ephemeral pull consumer with ``AckPolicy.NONE`` starts at the first sequence wanted; this reader asks it for
batches itself (a pull request on ``$JS.API.CONSUMER.MSG.NEXT``, answered on an inbox of a callback
subscription) rather than through nats-py's ``fetch``, which waits on every message with a task of its own and
costs about three times the CPU per message. At most two requests are open at a time, each bounded in messages
and bytes, so what waits in memory stays bounded however far ahead NATS is; a full queue downstream simply
delays the next request.

Every delivered message names its consumer sequence: one skipped (a message nats-py dropped, a consumer lost in
a NATS restart) raises ``ReadInterrupted``, and the caller reads again from what it has. The range ends at the
last sequence asked for, at a message after which nothing is pending, or when a request expires unfilled
(nothing more to read: every message of the range was in the stream before reading began).

Besides messages, the server answers a pull request with statuses (a message with no reply subject and a
``NATS/1.0 <code> <description>`` header line); ``STATUSES`` lists every one that nats-server 2.9.0 to 2.15 can send
to the reply subject of a ``$JS.API.CONSUMER.MSG.NEXT`` request, and what each means to this reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

log = logging.getLogger(__name__)

JS_API_PREFIX = "$JS.API"
# A request the server could not fill in this time ends with a 408: the stream has nothing more to give.
_REQUEST_EXPIRES_SECONDS = 5.0
# No answer at all (no message, no status) for this long: the consumer or the connection is gone.
_STALL_SECONDS = 15.0
# The ephemeral consumer goes away by itself this long after its reader did (a crash, a lost connection).
_INACTIVE_SECONDS = 60.0
_MIN_REQUEST_BYTES = 4 * 1024 * 1024
_OPEN_REQUESTS = 2


class ReadInterrupted(Exception):
    """The stream stopped answering or skipped a message: read again from the last message received."""


class ReadRefused(Exception):
    """The server refuses pull requests as this reader makes them (a limit of its configuration, a request it
    cannot parse): every new read would be refused alike, so this is not retried. The message names the cause."""


class Answer(Enum):
    """What a status sent to a pull request means to the reader."""

    HEARTBEAT = "nothing ends"
    FILLED = "the request is finished, and its messages have counted it off: ask again"
    CLOSED = "the oldest open request is finished before its count: forget it and ask again"
    NOT_QUEUED = "the newest request was turned down before it waited: forget it and ask again"
    ENDED = "the range is read"
    INTERRUPTED = "the read is interrupted: ReadInterrupted, read again from the last message received"
    REFUSED = "every request like it would be refused: ReadRefused, not retried"


@dataclass(frozen=True, slots=True)
class Status:
    code: str
    description: str  # the description the server sends, or its beginning when the rest varies
    answer: Answer
    why: str


# Every status nats-server 2.9.0 to 2.15 sends to the reply subject of a $JS.API.CONSUMER.MSG.NEXT request, from its
# source: server/consumer.go (processNextMsgReq, processNextMsgRequest, getNextMsg, processWaiting,
# loopAndGatherMsgs, checkPendingRequests, releaseAnyPendingRequests, sendIdleHeartbeat), server/jetstream.go
# (signalPullConsumers) and server/client.go (the no-responders 503), read at v2.9.0, v2.9.10, v2.9.25, v2.10.0,
# v2.10.29, v2.11.0, v2.12.0, v2.14.5 and main (2.15.0-dev; the pinned wheel runs 2.15.1). The requests here send
# no "no_wait", "idle_heartbeat", priority group, pin id or API level header, and each read makes a consumer of its
# own, which has no request limits but those of the server or account. nats-py's fetch (nats/js/client.py) skips
# 404, 408 and 409 alike and raises APIError (ServiceUnavailableError for 503) on the rest; this reader tells them
# apart, since a 409 can mean a request done as much as a consumer gone.
STATUSES: tuple[Status, ...] = (
    Status("100", "Idle Heartbeat", Answer.HEARTBEAT, "sent while a request that asked for heartbeats waits"),
    Status("100", "FlowControl Request", Answer.HEARTBEAT, "flow control is for push consumers; nothing to answer"),
    Status(
        "409",
        "Batch Completed",
        Answer.FILLED,
        "2.10+: the request got its count of messages with bytes to spare; its last message counted it off",
    ),
    Status(
        "409",
        "Message Size Exceeds MaxBytes",
        Answer.CLOSED,
        "the next message exceeds the bytes left to the oldest request, which ends there; it fits a new one",
    ),
    Status(
        "408",
        "Requests Pending",
        Answer.NOT_QUEUED,
        "a no_wait request when the requests already waiting cover what is pending",
    ),
    Status(
        "408",
        "Request Timeout",
        Answer.ENDED,
        "the request waited its expiry unfilled: nothing more comes (the range was stored before reading began), "
        "and what a read ending early leaves, the live consumer starts at",
    ),
    Status("404", "No Messages", Answer.ENDED, "a no_wait request with nothing pending: nothing more to read"),
    Status(
        "408",
        "Interest Expired",
        Answer.INTERRUPTED,
        "the server no longer sees a subscription on the reply subject: ours or its route is gone",
    ),
    Status(
        "409",
        "Consumer Deleted",
        Answer.INTERRUPTED,
        "the consumer was deleted (its inactivity threshold after a lost connection, or by hand)",
    ),
    Status(
        "409", "Leadership Change", Answer.INTERRUPTED, "a clustered consumer changed leader: open requests are void"
    ),
    Status("409", "Server Shutdown", Answer.INTERRUPTED, "the server stops: its open requests are void"),
    Status(
        "409",
        "Consumer is push based",
        Answer.INTERRUPTED,
        "the name is a push consumer's, not the one made for this read; a new read makes a new name",
    ),
    Status(
        "409",
        "Exceeded MaxWaiting",
        Answer.INTERRUPTED,
        "the consumer holds as many waiting requests as it takes, while this reader keeps two of its 512: "
        "someone else pulls from it; a new read makes a new consumer",
    ),
    Status(
        "423",
        "Nats-Wrong-Pin-Id",
        Answer.INTERRUPTED,
        "2.11+: pinned-client priority groups, which the consumer made for this read has not: not ours",
    ),
    Status("423", "Nats-Pin-Id mismatch", Answer.INTERRUPTED, "2.11+: as Nats-Wrong-Pin-Id"),
    Status(
        "503",
        "",
        Answer.INTERRUPTED,
        "no responders: nothing serves this consumer's requests (deleted, or not yet back after a restart)",
    ),
    Status(
        "409",
        "Exceeded MaxRequestBatch",
        Answer.REFUSED,
        "the server's or account's JetStream limit max_request_batch is below the batch asked for",
    ),
    Status(
        "409",
        "Exceeded MaxRequestExpires",
        Answer.REFUSED,
        "a limit on the request's expiry, below the reader's, which every new consumer would have",
    ),
    Status(
        "409",
        "Exceeded MaxRequestMaxBytes",
        Answer.REFUSED,
        "a limit on the request's bytes, below the reader's, which every new consumer would have",
    ),
    Status("400", "Bad Request", Answer.REFUSED, "the server cannot parse the request: every one is made alike"),
    Status(
        "412",
        "Required Api Level",
        Answer.REFUSED,
        "2.12+: the request demands an API level the server lacks (this reader demands none)",
    ),
)


def answer_to(code: str, description: str) -> tuple[Answer, str]:
    """What a status means, and why; one not in ``STATUSES`` (a newer server's) interrupts the read, which then
    names it."""
    for status in STATUSES:
        if status.code == code and (description.startswith(status.description) if status.description else True):
            return status.answer, status.why
    return Answer.INTERRUPTED, "not a status this reader knows"


@dataclass(frozen=True, slots=True)
class StreamMessage:
    seq: int
    subject: str
    data: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class _Position:
    stream_seq: int
    consumer_seq: int
    pending: int


def position_of(reply: str) -> _Position:
    """The sequences carried by a JetStream message's reply subject, in either of its two formats:
    ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>`` and the newer one
    with a domain and an account hash after ``$JS.ACK`` (and a token after the pending count)."""
    tokens = reply.split(".")
    if len(tokens) < 9 or tokens[0] != "$JS" or tokens[1] != "ACK":
        raise ReadInterrupted(f"not a JetStream message: reply subject {reply!r}")
    base = 2 if len(tokens) == 9 else 4
    return _Position(
        stream_seq=int(tokens[base + 3]), consumer_seq=int(tokens[base + 4]), pending=int(tokens[base + 6])
    )


Batch = list[StreamMessage]


class StreamRange:
    """Messages ``first`` to ``last`` of ``stream`` (those still in it), in order, in batches put on a queue,
    then None."""

    def __init__(
        self, nc: Client, *, stream: str, filter_subject: str, first: int, last: int, batch: int, name: str
    ) -> None:
        self._nc = nc
        self._stream = stream
        self._filter_subject = filter_subject
        self._first = first
        self._last = last
        self._batch = batch
        self._name = name
        self._arrived: list[Msg] = []
        self._wake = asyncio.Event()
        self._open: deque[int] = deque()  # messages still due on each open request, oldest first
        self._next_consumer_seq = 1
        self._done = False

    @property
    def open_requests(self) -> tuple[int, ...]:
        """The messages still due on each request believed open, oldest first."""
        return tuple(self._open)

    @property
    def done(self) -> bool:
        """The range is read: nothing more is taken from what arrives."""
        return self._done

    async def read_into(self, out: asyncio.Queue[Batch | None]) -> None:
        js = self._nc.jetstream()
        await js.add_consumer(
            self._stream,
            ConsumerConfig(
                name=self._name,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=self._first,
                ack_policy=AckPolicy.NONE,
                filter_subject=self._filter_subject,
                inactive_threshold=_INACTIVE_SECONDS,
            ),
        )
        inbox = self._nc.new_inbox()
        request_bytes = max(_MIN_REQUEST_BYTES, 2 * self._nc.max_payload)
        subscription = await self._nc.subscribe(
            inbox,
            cb=self._on_message,
            pending_msgs_limit=self._batch * (_OPEN_REQUESTS + 2),
            pending_bytes_limit=request_bytes * (_OPEN_REQUESTS + 2),
        )
        request = json.dumps(
            {"batch": self._batch, "expires": int(_REQUEST_EXPIRES_SECONDS * 1e9), "max_bytes": request_bytes}
        ).encode()
        next_subject = f"{JS_API_PREFIX}.CONSUMER.MSG.NEXT.{self._stream}.{self._name}"
        try:
            while not self._done:
                while len(self._open) < _OPEN_REQUESTS:
                    await self._nc.publish(next_subject, request, reply=inbox)
                    self._open.append(self._batch)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=_STALL_SECONDS)
                except TimeoutError as error:
                    raise ReadInterrupted(f"nothing from consumer {self._name} for {_STALL_SECONDS:.0f}s") from error
                self._wake.clear()
                arrived, self._arrived = self._arrived, []
                batch = self._take(arrived)
                if batch:
                    await out.put(batch)
            await out.put(None)
        finally:
            with contextlib.suppress(nats.errors.Error):
                await subscription.unsubscribe()
            with contextlib.suppress(nats.errors.Error, TimeoutError):
                await js.delete_consumer(self._stream, self._name)

    async def _on_message(self, msg: Msg) -> None:
        self._arrived.append(msg)
        self._wake.set()

    def _take(self, arrived: list[Msg]) -> Batch:
        batch: Batch = []
        for msg in arrived:
            if self._done:
                break
            if not msg.reply:
                self._on_status(msg)
                continue
            position = position_of(msg.reply)
            if position.consumer_seq != self._next_consumer_seq:
                raise ReadInterrupted(
                    f"consumer {self._name} delivered #{position.consumer_seq}, expected #{self._next_consumer_seq}"
                )
            self._next_consumer_seq += 1
            if self._open:
                self._open[0] -= 1
                if self._open[0] == 0:
                    self._open.popleft()
            if position.stream_seq > self._last:
                self._done = True
                break
            batch.append(StreamMessage(position.stream_seq, msg.subject, msg.data, msg.headers or {}))
            self._done = position.stream_seq == self._last or position.pending == 0
        return batch

    def _on_status(self, msg: Msg) -> None:
        headers = msg.headers or {}
        code, description = headers.get("Status", ""), headers.get("Description", "")
        answer, why = answer_to(code, description)
        said = " ".join(part for part in (code, description) if part) or "a status without a code"
        if answer is Answer.CLOSED:
            if self._open:
                self._open.popleft()
        elif answer is Answer.NOT_QUEUED:
            if self._open:
                self._open.pop()
        elif answer is Answer.ENDED:
            self._done = True
        elif answer is Answer.INTERRUPTED:
            raise ReadInterrupted(f"consumer {self._name} answered {said}: {why}")
        elif answer is Answer.REFUSED:
            raise ReadRefused(f"consumer {self._name} answered {said}: {why}")
