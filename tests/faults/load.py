"""A steady, bounded load of tickets opened, written in and handled against intake, recording what became of
each request.

Customers open tickets (each with a CC address) and reply to their own; staff reply publicly to any ticket,
which mails the requester and the CC. Staff also handle tickets: they change the tags, set the
status to ``in_progress`` or ``on_hold`` (by name or by one of the provider's default labels), pick tickets up,
assign them to a colleague and leave them unassigned. Every one of these changes something, so that every
accepted one records an event: a field update sets a value unique to its request, and the load knows each
ticket's status and assignee as its own commands left them (see ``Handling``).

Every request carries an ``Idempotency-Key``, and one request in ten sends an earlier one again with its key. A
request that meets a connection error is sent again with the same key, as a real client would; so is a 5xx
after an attempt that may have arrived. Each request carries a marker unique to it (in a body, a reason, a
tag), by which its traces are found later; an assignment is known by its ticket, who assigned and
whom.
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
from hostdesk_contracts.base import Role, Status

from tests.faults.harness import Deployment

Kind = Literal[
    "open", "customer_reply", "staff_reply", "update", "status_change", "pickup", "assignment", "unassignment"
]
ASSIGNING: tuple[Kind, ...] = ("pickup", "assignment", "unassignment")

RETRY_PAUSE = 0.25
ANSWER_WITHIN = 60.0  # a request still unanswered after this is recorded as "no answer"
# Errors after which the request cannot have reached intake: sending again is plainly safe.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# The two statuses a status change alternates between, each with the labels every tenant has by default.
HOLDING_STATUSES = {Status.IN_PROGRESS: ("Validation", "Install request"), Status.ON_HOLD: ("To do",)}


@dataclass(frozen=True)
class Account:
    account_id: str
    role: Role
    token: str
    email: str | None


@dataclass
class Handling:
    """A ticket's status and assignee as the load's own status changes and assignments left them.

    Replies never set ``in_progress`` or ``on_hold`` and nothing else assigns, so a status change to the other of
    the two and an assignment to someone else always change the ticket, as long as each waits until the one
    before it on the ticket was committed. One that was not (202, refused, unanswered) leaves its ticket out of
    further commands of its sort: the load no longer knows what they would change."""

    status: Status | None = None  # the last status the load set on the ticket
    assignee: str | None = None  # the staff member the ticket is assigned to
    status_free: bool = True  # no status change in flight or of unknown outcome
    assignee_free: bool = True


@dataclass(frozen=True)
class OpenedTicket:
    ticket_id: str
    owner: Account
    cc: str
    handling: Handling = field(default_factory=Handling, compare=False)


@dataclass(frozen=True)
class Request:
    """One request to send, and what it is meant to do."""

    kind: Kind
    account: Account
    key: str
    marker: str
    method: str
    path: str
    payload: dict[str, Any] | None
    ticket: OpenedTicket | None = None  # the ticket it acts on; None for an open
    status: Status | None = None  # the status a status change sets
    assignee: str | None = None  # the staff member an assignment, a pick-up or (None) an unassignment leaves

    @property
    def label(self) -> str | None:
        """The provider's label a status change gives instead of the status's name."""
        return None if self.payload is None else self.payload.get("label")


@dataclass
class Sent:
    """One request as the client saw it."""

    number: int
    request: Request
    resend: bool = False
    status: int | None = None  # the last answer; None when none came
    answer: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    # An attempt ended in a way that leaves open whether intake received it (the connection broke mid-way).
    ambiguous: bool = False
    pending: bool = False  # answered 202: its ``status`` is then what polling its outcome said

    @property
    def kind(self) -> Kind:
        return self.request.kind

    @property
    def marker(self) -> str:
        return self.request.marker

    @property
    def command(self) -> tuple[str, str]:
        """Requests with the same account and key are one command."""
        return self.request.account.account_id, self.request.key


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
        self.tickets: list[OpenedTicket] = []  # opened with a 201: the targets of everything else
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
            return Sent(number, self.random.choice(answered).request, resend=True)
        marker = f"m{number:05d}x{uuid.uuid4().hex[:6]}"
        key = f"key-{marker}"
        if not self.tickets or draw < 0.32:
            account = self.random.choice(self.customers)
            payload = {"subject": f"Load {marker}", "body": f"Opened {marker}", "cc": [f"cc-{marker}@watch.example"]}
            return Sent(number, Request("open", account, key, marker, "POST", "/v1/tickets", payload))
        ticket = self.random.choice(self.tickets)
        staff = self.random.choice(self.staff)
        if draw < 0.68:
            kind: Kind = "customer_reply" if draw < 0.5 else "staff_reply"
            author = ticket.owner if kind == "customer_reply" else staff
            path = f"/v1/tickets/{ticket.ticket_id}/replies"
            return Sent(number, Request(kind, author, key, marker, "POST", path, {"body": f"Reply {marker}"}, ticket))
        request = None
        if draw >= 0.9:
            request = self._assigning(staff, key, marker)
        elif draw >= 0.8:
            request = self._status_change(staff, key, marker)
        return Sent(number, request or self._update(ticket, staff, key, marker))

    def _update(self, ticket: OpenedTicket, staff: Account, key: str, marker: str) -> Request:
        """A tag named after the request: a value the ticket never had. (Not the category: a category is one of
        the handling organisation's few, so it cannot be unique to a request.)"""
        payload: dict[str, Any] = {"tags": [marker]}
        return Request("update", staff, key, marker, "PATCH", f"/v1/tickets/{ticket.ticket_id}", payload, ticket)

    def _status_change(self, staff: Account, key: str, marker: str) -> Request | None:
        """``in_progress`` or ``on_hold``, whichever the ticket was not last set to, by name or by a label."""
        free = [ticket for ticket in self.tickets if ticket.handling.status_free]
        if not free:
            return None
        ticket = self.random.choice(free)
        ticket.handling.status_free = False
        status = Status.ON_HOLD if ticket.handling.status is Status.IN_PROGRESS else Status.IN_PROGRESS
        labels = HOLDING_STATUSES[status]
        named = self.random.random() < 0.5
        payload = {"status": status.value} if named else {"label": self.random.choice(labels)}
        payload["reason"] = f"Load {marker}"
        path = f"/v1/tickets/{ticket.ticket_id}/status"
        return Request("status_change", staff, key, marker, "POST", path, payload, ticket, status=status)

    def _assigning(self, staff: Account, key: str, marker: str) -> Request | None:
        """The caller picks the ticket up, assigns it to a colleague or leaves it unassigned: never to whom it
        already has."""
        free = [ticket for ticket in self.tickets if ticket.handling.assignee_free]
        if not free:
            return None
        ticket = self.random.choice(free)
        ticket.handling.assignee_free = False
        path = f"/v1/tickets/{ticket.ticket_id}/assignee"
        current = ticket.handling.assignee
        if current is not None and self.random.random() < 0.2:
            return Request("unassignment", staff, key, marker, "DELETE", path, None, ticket)
        others = [account.account_id for account in self.staff if account.account_id != current]
        assignee = self.random.choice(others)
        if assignee == staff.account_id:
            path = f"/v1/tickets/{ticket.ticket_id}/pickup"
            return Request("pickup", staff, key, marker, "POST", path, None, ticket, assignee=assignee)
        payload = {"account_id": assignee}
        return Request("assignment", staff, key, marker, "PUT", path, payload, ticket, assignee=assignee)

    async def _send(self, sent: Sent) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_WITHIN
        request = sent.request
        headers = {"Authorization": f"Bearer {request.account.token}", "Idempotency-Key": request.key}
        while True:
            sent.attempts += 1
            try:
                response = await self._http.request(request.method, request.path, json=request.payload, headers=headers)
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
        request = sent.request
        committed = response.status_code in (200, 201)
        if request.kind == "open" and committed and request.marker not in self.opened_by_marker:
            assert request.payload is not None
            ticket = OpenedTicket(sent.answer["ticket_id"], request.account, request.payload["cc"][0])
            self.tickets.append(ticket)
            self.opened_by_marker[request.marker] = ticket
        if sent.resend or not committed or request.ticket is None:
            return
        handling = request.ticket.handling
        if request.kind == "status_change":
            handling.status, handling.status_free = request.status, True
        elif request.kind in ASSIGNING:
            handling.assignee, handling.assignee_free = request.assignee, True
