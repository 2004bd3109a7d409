"""A steady, bounded load of opened tickets and replies against intake, recording what became of each request.

Customers open tickets (each with a CC address) and reply to their own; staff reply publicly to any ticket,
which mails the requester and the CC. Every request carries an ``Idempotency-Key``, and one request in ten
sends an earlier one again with its key. A request that meets a connection error is sent again with the same
key, as a real client would; so is a 5xx after an attempt that may have arrived. Each body carries a marker
unique to its request, by which its traces are found later.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from hostdesk_contracts.base import Role

from tests.faults.harness import Deployment

Kind = Literal["open", "customer_reply", "staff_reply"]

RETRY_PAUSE = 0.25
ANSWER_WITHIN = 60.0  # a request still unanswered after this is recorded as "no answer"
# Errors after which the request cannot have reached intake: sending again is plainly safe.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class Account:
    account_id: str
    role: Role
    token: str
    email: str | None


@dataclass
class Sent:
    """One request as the client saw it."""

    number: int
    kind: Kind
    account: Account
    key: str
    marker: str
    path: str
    payload: dict[str, Any]
    resend: bool = False
    status: int | None = None  # the last answer; None when none came
    answer: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    # An attempt ended in a way that leaves open whether intake received it (the connection broke mid-way).
    ambiguous: bool = False
    pending: bool = False  # answered 202: its ``status`` is then what polling its outcome said

    @property
    def command(self) -> tuple[str, str]:
        """Requests with the same account and key are one command."""
        return self.account.account_id, self.key


@dataclass(frozen=True)
class OpenedTicket:
    ticket_id: str
    owner: Account
    cc: str


class Load:
    """``async with Load(deployment, rate=30) as load: ...`` sends ``rate`` requests a second until the block
    ends, then waits for the answers of those in flight."""

    def __init__(self, deployment: Deployment, *, rate: float, customers: int = 8, staff: int = 3) -> None:
        self.deployment = deployment
        self.rate = rate
        self.random = random.Random(uuid.uuid4().int)
        self.customers = [self._account(f"cust-{n}", Role.CUSTOMER) for n in range(customers)]
        self.staff = [self._account(f"agent-{n}", Role.AGENT) for n in range(staff)]
        self.sent: list[Sent] = []
        self.tickets: list[OpenedTicket] = []  # opened with a 201: the targets of replies
        self.opened_by_marker: dict[str, OpenedTicket] = {}
        self._numbers = itertools.count(1)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._pacing: asyncio.Task[None] | None = None
        self._progress = asyncio.Condition()
        self._http = deployment.client("intake", timeout=30.0)

    def _account(self, account_id: str, role: Role) -> Account:
        email = f"{account_id}@customer.example" if role is Role.CUSTOMER else None
        return Account(account_id, role, self.deployment.token(account_id, role, email=email), email)

    async def __aenter__(self) -> Load:
        self._pacing = asyncio.create_task(self._pace(), name="load")
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._pacing is not None
        self._pacing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pacing
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=ANSWER_WITHIN + 30)
        await self._http.aclose()

    async def sent_more(self, count: int, *, within: float = 120.0) -> None:
        """Wait until ``count`` more requests have been sent."""
        target = len(self.sent) + count
        async with self._progress:
            await asyncio.wait_for(self._progress.wait_for(lambda: len(self.sent) >= target), timeout=within)

    async def _pace(self) -> None:
        interval = 1.0 / self.rate
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            sent = self._next_request()
            self.sent.append(sent)
            task = asyncio.create_task(self._send(sent))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            async with self._progress:
                self._progress.notify_all()
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    def _next_request(self) -> Sent:
        number = next(self._numbers)
        draw = self.random.random()
        answered = [sent for sent in self.sent if sent.status in (201, 202) and not sent.resend]
        if answered and draw < 0.1:
            first = self.random.choice(answered)
            return Sent(number, first.kind, first.account, first.key, first.marker, first.path, first.payload, True)
        marker = f"m{number:05d}x{uuid.uuid4().hex[:6]}"
        key = f"key-{marker}"
        if not self.tickets or draw < 0.35:
            account = self.random.choice(self.customers)
            payload = {"subject": f"Load {marker}", "body": f"Opened {marker}", "cc": [f"cc-{marker}@watch.example"]}
            return Sent(number, "open", account, key, marker, "/v1/tickets", payload)
        ticket = self.random.choice(self.tickets)
        path = f"/v1/tickets/{ticket.ticket_id}/replies"
        if draw < 0.65:
            return Sent(number, "customer_reply", ticket.owner, key, marker, path, {"body": f"Reply {marker}"})
        staff = self.random.choice(self.staff)
        return Sent(number, "staff_reply", staff, key, marker, path, {"body": f"Reply {marker}"})

    async def _send(self, sent: Sent) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_WITHIN
        headers = {"Authorization": f"Bearer {sent.account.token}", "Idempotency-Key": sent.key}
        while True:
            sent.attempts += 1
            try:
                response = await self._http.post(sent.path, json=sent.payload, headers=headers)
            except NOT_SENT:
                pass
            except httpx.TransportError:
                sent.ambiguous = True
            else:
                sent.status = response.status_code
                if response.status_code < 500 or not sent.ambiguous:
                    self._record(sent, response)
                    return
            if loop.time() > deadline:
                return
            await asyncio.sleep(RETRY_PAUSE)

    def _record(self, sent: Sent, response: httpx.Response) -> None:
        with contextlib.suppress(ValueError):
            sent.answer = response.json()
        if sent.kind == "open" and response.status_code == 201 and sent.marker not in self.opened_by_marker:
            ticket = OpenedTicket(sent.answer["ticket_id"], sent.account, sent.payload["cc"][0])
            self.tickets.append(ticket)
            self.opened_by_marker[sent.marker] = ticket
