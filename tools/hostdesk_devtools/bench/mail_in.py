"""Support mail in, end to end, beside a bare SMTP server's rate measured in the same run.

The same client sends the same mails twice: first to a bare aiosmtpd server that answers ``250`` at once (the
ceiling of the client and of an SMTP server in Python on this machine), then to intake's listener, addressed to a
support address of the bench's provider, each from a sender nobody knows (as most support mail is: each becomes a
guest requester, five mails each, within intake's bound per sender). For intake, each mail is timed from its
``250`` to its ticket being in query's read model (polled in PostgreSQL, where query's readers read it).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import aiosmtplib
import asyncpg

from hostdesk_devtools.bench.limits import start_process, stop_process
from hostdesk_devtools.bench.stats import Quantiles
from hostdesk_devtools.servers import free_port, wait_for_port

MAILS_PER_SENDER = 5  # intake screens more than 30 an hour from one sender
POLL_SECONDS = 0.02
SEND_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class OutgoingMail:
    key: str  # its subject: what names it in query
    sender: str
    data: bytes


@dataclass(frozen=True)
class Accepted:
    key: str
    accepted_at: float  # monotonic, at the 250
    latency: float  # seconds from MAIL FROM to the 250 of DATA


@dataclass(frozen=True)
class MailRun:
    accepted: list[Accepted]
    refused: int
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.accepted) / self.seconds if self.seconds else 0.0

    @property
    def latency_ms(self) -> Quantiles:
        return Quantiles.of(each.latency for each in self.accepted).in_ms()


@dataclass(frozen=True)
class MailIngest:
    """``bare``: the bare server; ``intake``: intake's listener; ``visible``: when each of intake's mails was first
    seen in query (monotonic), within ``wait`` seconds of the last ``250``."""

    bare: MailRun
    intake: MailRun
    visible: dict[str, float]
    started_at: float
    wait: float

    @property
    def missing(self) -> int:
        return len(self.intake.accepted) - sum(each.key in self.visible for each in self.intake.accepted)

    @property
    def end_to_end_ms(self) -> Quantiles:
        """From the ``250`` to visible in query; a mail not seen within the wait counts as longer than any."""
        return Quantiles.of(
            self.visible[each.key] - each.accepted_at if each.key in self.visible else math.inf
            for each in self.intake.accepted
        ).in_ms()

    @property
    def end_to_end_rate(self) -> float:
        """Mails visible in query per second, from the first mail sent to the last seen."""
        if not self.visible:
            return 0.0
        return len(self.visible) / (max(self.visible.values()) - self.started_at)


def support_mails(stamp: str, *, count: int, to: str) -> list[OutgoingMail]:
    """``count`` distinct plain-text mails, five per sender, of the size of a usual customer's mail."""
    date = format_datetime(datetime.now(UTC))
    mails = []
    for index in range(count):
        sender = f"mailbench-{stamp}-{index // MAILS_PER_SENDER}@customers.example"
        key = f"Mail bench {stamp} {index}"
        body = (
            "Hello,\r\n\r\nSince this morning every page of my site answers 502 Bad Gateway, and the control panel\r\n"
            "shows the PHP-FPM service as stopped. I restarted it twice from the panel without success.\r\n"
            f"Could you look at it? The site is shop-{index}.customers.example.\r\n\r\nThanks,\r\nA customer\r\n"
        )
        headers = (
            f"From: A customer <{sender}>\r\nTo: {to}\r\nSubject: {key}\r\nDate: {date}\r\n"
            f"Message-ID: <mailbench-{stamp}-{index}@customers.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        )
        mails.append(OutgoingMail(key=key, sender=sender, data=(headers + body).encode()))
    return mails


async def send_mails(port: int, mails: Sequence[OutgoingMail], *, to: str, connections: int) -> MailRun:
    """The mails over ``connections`` SMTP sessions at once, each kept open for its share."""
    shares = [mails[start::connections] for start in range(connections)]
    accepted: list[Accepted] = []
    refused = 0

    async def session(share: Sequence[OutgoingMail]) -> None:
        nonlocal refused
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=SEND_TIMEOUT_SECONDS)
        await smtp.connect()
        try:
            for mail in share:
                began = time.monotonic()
                try:
                    await smtp.sendmail(mail.sender, [to], mail.data)
                except aiosmtplib.SMTPResponseException:
                    refused += 1
                    continue
                done = time.monotonic()
                accepted.append(Accepted(key=mail.key, accepted_at=done, latency=done - began))
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit()

    started = time.monotonic()
    await asyncio.gather(*(session(share) for share in shares if share))
    return MailRun(accepted=accepted, refused=refused, seconds=time.monotonic() - started)


async def until_accepting(port: int, *, to: str, within: float) -> None:
    """Wait until the server at ``port`` takes mail for ``to`` (intake learns of a new support address from the
    directory bucket a moment after the operator put it)."""
    deadline = time.monotonic() + within
    while True:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=SEND_TIMEOUT_SECONDS)
        await smtp.connect()
        try:
            await smtp.mail("probe@customers.example")
            await smtp.rcpt(to)
            return
        except aiosmtplib.SMTPResponseException:
            if time.monotonic() > deadline:
                raise
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit()
        await asyncio.sleep(0.1)


async def bare_server_run(mails: Sequence[OutgoingMail], *, to: str, connections: int, log: Path) -> MailRun:
    """The mails sent to a bare aiosmtpd server started in a process of its own for the purpose."""
    port = free_port()
    process = await start_process(["-m", "hostdesk_devtools.bench.bare_smtp", "--port", str(port)], log=log)
    try:
        await asyncio.to_thread(wait_for_port, "127.0.0.1", port)
        return await send_mails(port, mails, to=to, connections=connections)
    finally:
        await stop_process(process)


async def watch_query(
    database_url: str, *, tenant: str, keys: set[str], prefix: str, since: datetime, until: asyncio.Event, wait: float
) -> dict[str, float]:
    """When each ticket whose subject is one of ``keys`` first appeared in query's read model; polls until all
    have, or ``wait`` seconds after ``until`` is set."""
    seen: dict[str, float] = {}
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        deadline: float | None = None
        while len(seen) < len(keys):
            rows = await connection.fetch(
                "SELECT subject FROM query.tickets WHERE tenant = $1 AND updated_at >= $2 AND subject LIKE $3",
                tenant,
                since,
                f"{prefix}%",
            )
            now = time.monotonic()
            for row in rows:
                if row["subject"] in keys:
                    seen.setdefault(row["subject"], now)
            if deadline is None and until.is_set():
                deadline = now + wait
            if deadline is not None and now > deadline:
                break
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await connection.close()
    return seen


async def mail_ingest(
    *,
    stamp: str,
    intake_port: int,
    database_url: str,
    tenant: str,
    to: str,
    count: int,
    connections: int,
    wait: float,
    log: Path,
) -> MailIngest:
    bare = await bare_server_run(
        support_mails(f"{stamp}b", count=count, to=to), to=to, connections=connections, log=log
    )
    mails = support_mails(stamp, count=count, to=to)
    await until_accepting(intake_port, to=to, within=wait)
    sent = asyncio.Event()
    since = datetime.now(UTC) - timedelta(seconds=5)
    watcher = asyncio.create_task(
        watch_query(
            database_url,
            tenant=tenant,
            keys={mail.key for mail in mails},
            prefix=f"Mail bench {stamp} ",
            since=since,
            until=sent,
            wait=wait,
        )
    )
    started = time.monotonic()
    try:
        intake = await send_mails(intake_port, mails, to=to, connections=connections)
    except BaseException:
        watcher.cancel()
        raise
    sent.set()
    visible = await watcher
    return MailIngest(bare=bare, intake=intake, visible=visible, started_at=started, wait=wait)
