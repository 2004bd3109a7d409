"""Projection lag and notification lag, sampled beside the load by a small client at a low rate.

Each sample opens a ticket as a customer of its own (with an e-mail address), then polls query for it:
from the ``201`` to the first ``200`` is the projection lag. Then an agent replies publicly: from that
``201`` to the mail reaching the SMTP sink is the notification lag.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from hostdesk_devtools.bench.stats import Quantiles
from hostdesk_devtools.bench.traffic import OPEN_BODY, REPLY_BODY, customer_token, lag_customer, staff_token
from hostdesk_devtools.smtp_sink import ReceivedMail

POLL_SECONDS = 0.003
HTTP_TIMEOUT_SECONDS = 10.0
PROJECTION_WAIT_SECONDS = 10.0
NOTIFICATION_WAIT_SECONDS = 30.0  # notify may fall behind under load: wait long enough to see by how much


class MailClock:
    """When the sink received a mail for each address. ``on_mail`` runs in the sink's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrived: dict[str, float] = {}
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[float]]] = {}

    def on_mail(self, mail: ReceivedMail, path: Path | None) -> None:
        now = time.monotonic()
        for address in mail.rcpt_tos:
            with self._lock:
                self._arrived.setdefault(address, now)
                waiter = self._waiting.pop(address, None)
            if waiter is not None:
                loop, future = waiter
                loop.call_soon_threadsafe(_settle, future, now)

    async def arrival(self, address: str, *, within: float) -> float:
        """The time the first mail to ``address`` arrived, waiting for it up to ``within`` seconds."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[float] = loop.create_future()
        with self._lock:
            if address in self._arrived:
                return self._arrived[address]
            self._waiting[address] = (loop, future)
        try:
            return await asyncio.wait_for(future, within)
        finally:
            with self._lock:
                self._waiting.pop(address, None)


def _settle(future: asyncio.Future[float], at: float) -> None:
    if not future.done():
        future.set_result(at)


@dataclass(frozen=True)
class LagSample:
    opened_at: float  # monotonic time of the open's 201
    projection: float | None  # seconds; None when the ticket was not visible in time (or the open failed)
    notification: float | None


@dataclass(frozen=True)
class LagResult:
    samples: list[LagSample]
    requests: int = 0  # what the sampler sent in all (opens, polls, replies): its own share of the load
    seconds: float = 0.0

    # A lag not seen within its wait counts as longer than any seen: a percentile that falls on one is infinite
    # (shown as "more than the wait"), never quietly left out.

    @property
    def projection_ms(self) -> Quantiles:
        return Quantiles.of(math.inf if s.projection is None else s.projection for s in self.samples).in_ms()

    @property
    def notification_ms(self) -> Quantiles:
        return Quantiles.of(math.inf if s.notification is None else s.notification for s in self.samples).in_ms()

    @property
    def missing(self) -> dict[str, int]:
        return {
            "projection": sum(s.projection is None for s in self.samples),
            "notification": sum(s.notification is None for s in self.samples),
        }


class LagSampler:
    def __init__(self, *, intake_url: str, query_url: str, secret: str, mail: MailClock, stamp: str) -> None:
        self._intake = intake_url
        self._query = query_url
        self._secret = secret
        self._mail = mail
        self._stamp = stamp
        self._staff = {"Authorization": f"Bearer {staff_token(secret, 'agent-lag')}"}
        self._requests = 0

    async def run(self, *, count: int, rate: float) -> LagResult:
        """``count`` samples started ``rate`` per second; each lag bounded by its wait."""
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, limits=limits) as http:
            started = time.monotonic()
            tasks = []
            for index in range(count):
                await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
                tasks.append(asyncio.create_task(self._sample(http, index)))
            samples = await asyncio.gather(*tasks)
        return LagResult(samples=list(samples), requests=self._requests, seconds=time.monotonic() - started)

    async def _sample(self, http: httpx.AsyncClient, index: int) -> LagSample:
        account, email = lag_customer(self._stamp, index)
        token = customer_token(self._secret, account)
        customer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._requests += 1
        try:
            opened = await http.post(f"{self._intake}/v1/tickets", content=OPEN_BODY, headers=customer)
        except httpx.HTTPError:
            return LagSample(time.monotonic(), None, None)
        opened_at = time.monotonic()
        if opened.status_code != 201:
            return LagSample(opened_at, None, None)
        ticket_id = opened.json()["ticket_id"]
        projection = await self._projection_lag(http, ticket_id, headers=customer, since=opened_at)
        notification = await self._notification_lag(http, ticket_id, email=email)
        return LagSample(opened_at, projection, notification)

    async def _projection_lag(
        self, http: httpx.AsyncClient, ticket_id: str, *, headers: dict[str, str], since: float
    ) -> float | None:
        url = f"{self._query}/v1/tickets/{ticket_id}"
        while time.monotonic() - since < PROJECTION_WAIT_SECONDS:
            self._requests += 1
            try:
                response = await http.get(url, headers=headers)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code == 200:
                return time.monotonic() - since
            await asyncio.sleep(POLL_SECONDS)
        return None

    async def _notification_lag(self, http: httpx.AsyncClient, ticket_id: str, *, email: str) -> float | None:
        headers = {**self._staff, "Content-Type": "application/json"}
        self._requests += 1
        try:
            url = f"{self._intake}/v1/tickets/{ticket_id}/replies"
            replied = await http.post(url, content=REPLY_BODY, headers=headers)
        except httpx.HTTPError:
            return None
        replied_at = time.monotonic()
        if replied.status_code != 201:
            return None
        try:
            return await self._mail.arrival(email, within=NOTIFICATION_WAIT_SECONDS) - replied_at
        except TimeoutError:
            return None
