"""Mail out: staff replies as fast as intake takes them, each mailing its requester, beside the SMTP sink's own rate
measured in the same run.

A hundred requesters with addresses each have a ticket (opened, and its mail to the handling side worked off,
before the clock starts); then agents post five public replies to each at once. Notify's rate is the mails the
sink received over the time from the first reply sent to the last mail in; each mail's lag is from its reply's
``201`` to its arrival (a requester's mails arrive in the order of its replies). The sink's own rate is the same
client's mails sent straight to it, over a few connections at once.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from hostdesk_devtools.bench.mail_in import MailRun, send_mails, support_mails
from hostdesk_devtools.bench.stats import Quantiles
from hostdesk_devtools.bench.traffic import (
    MAIL_OUT_CUSTOMERS,
    OPEN_BODY,
    REPLY_BODY,
    STAFF_ACCOUNTS,
    customer_token,
    mail_out_customer,
    staff_token,
)
from hostdesk_devtools.smtp_sink import SmtpSink

REPLIES_PER_TICKET = 5
CONCURRENCY = 16  # requests in flight at once
HTTP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class MailOut:
    sink: MailRun  # the client's mails straight to the sink
    replies: int
    replies_seconds: float
    lags: list[float]  # seconds, one a reply; inf for a mail that never came
    first_reply_at: float  # wall clock
    last_mail_at: float | None
    wait: float

    @property
    def reply_rate(self) -> float:
        return self.replies / self.replies_seconds if self.replies_seconds else 0.0

    @property
    def mails(self) -> int:
        return sum(math.isfinite(each) for each in self.lags)

    @property
    def rate(self) -> float:
        if self.last_mail_at is None:
            return 0.0
        return self.mails / (self.last_mail_at - self.first_reply_at)

    @property
    def lag_ms(self) -> Quantiles:
        return Quantiles.of(self.lags).in_ms()


async def mail_out(
    *,
    stamp: str,
    secret: str,
    intake_url: str,
    sink: SmtpSink,
    mail_connections: int,
    wait: float,
    settle: Callable[[], Awaitable[object]],
) -> MailOut:
    """``settle`` returns once the system has worked off what was sent to it."""
    sink_run = await send_mails(
        sink.port,
        support_mails(f"{stamp}o", count=500, to="rate@sink.example"),
        to="rate@sink.example",
        connections=mail_connections,
    )
    gate = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    customers = [mail_out_customer(stamp, index) for index in range(MAIL_OUT_CUSTOMERS)]
    async with httpx.AsyncClient(base_url=intake_url, timeout=HTTP_TIMEOUT_SECONDS, limits=limits) as http:

        async def post(path: str, token: str, body: str) -> httpx.Response:
            async with gate:
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                answer = await http.post(path, content=body, headers=headers)
            answer.raise_for_status()
            return answer

        opened = await asyncio.gather(
            *(post("/v1/tickets", customer_token(secret, account), OPEN_BODY) for account, _ in customers)
        )
        tickets = [answer.json()["ticket_id"] for answer in opened]
        await settle()

        agents = [staff_token(secret, f"agent-{n:02d}") for n in range(STAFF_ACCOUNTS)]
        committed: dict[str, list[float]] = {email: [] for _, email in customers}

        async def reply(n: int, ticket_id: str, email: str) -> None:
            await post(f"/v1/tickets/{ticket_id}/replies", agents[n % len(agents)], REPLY_BODY)
            committed[email].append(time.time())

        first = time.time()
        started = time.monotonic()
        await asyncio.gather(
            *(
                reply(n * MAIL_OUT_CUSTOMERS + index, ticket_id, email)
                for n in range(REPLIES_PER_TICKET)
                for index, (ticket_id, (_, email)) in enumerate(zip(tickets, customers, strict=True))
            )
        )
        replies_seconds = time.monotonic() - started

    expected = MAIL_OUT_CUSTOMERS * REPLIES_PER_TICKET
    deadline = time.monotonic() + wait
    arrived: dict[str, list[float]] = {}
    while time.monotonic() < deadline:
        arrived = {email: [] for email in committed}
        for mail in sink.mailbox.all():
            for address in mail.rcpt_tos:
                if address in arrived and mail.received_at.timestamp() >= first:
                    arrived[address].append(mail.received_at.timestamp())
        if sum(map(len, arrived.values())) >= expected:
            break
        await asyncio.sleep(0.05)
    lags = []
    for email, sent_at in committed.items():
        came = sorted(arrived.get(email, []))
        for k, at in enumerate(sorted(sent_at)):
            lags.append(came[k] - at if k < len(came) else math.inf)
    every = [at for came in arrived.values() for at in came]
    return MailOut(
        sink=sink_run,
        replies=expected,
        replies_seconds=replies_seconds,
        lags=lags,
        first_reply_at=first,
        last_mail_at=max(every) if every else None,
        wait=wait,
    )
