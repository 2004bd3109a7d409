"""The statuses the server answers the catch-up's pull requests with, and what each means to its reader.

Besides messages, the server answers a pull request with statuses (a message with no reply subject and a
``NATS/1.0 <code> <description>`` header line); ``STATUSES`` lists every one that nats-server 2.9.0 to 2.15 can send
to the reply subject of a ``$JS.API.CONSUMER.MSG.NEXT`` request, and what each means to the reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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
