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
``NATS/1.0 <code> <description>`` header line): ``catchup_statuses`` tells what each means to this reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from hostdesk_query.adapters.catchup_statuses import Answer, answer_to

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
