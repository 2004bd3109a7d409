"""A mailbox's status, which is also its lease, in the rates bucket over intake's own NATS user, and in memory alike:
of two replicas writing over the same revision, one does; the other is told so, and nothing is overwritten."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from hostdesk_contracts.directory import MailboxProtocol
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import Server
from hostdesk_intake.adapters.mailbox_status import KvMailboxStatuses, MailboxStatuses, MemoryMailboxStatuses
from hostdesk_intake.domain.mailboxes import MailboxStatus

from tests.integration.intake.test_rate_counters import as_user

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "nats"])
async def replicas(
    request: pytest.FixtureRequest, nats_server: Server, declared_streams: Subjects
) -> AsyncIterator[tuple[MailboxStatuses, MailboxStatuses]]:
    if request.param == "memory":
        shared = MemoryMailboxStatuses()
        yield shared, shared
        return
    connections = [await as_user(nats_server, "intake", name=f"mailboxes-{n}") for n in range(2)]
    try:
        one, other = (
            KvMailboxStatuses(lambda nc=nc: nc, bucket=declared_streams.rates_bucket, timeout=5.0) for nc in connections
        )
        yield one, other
    finally:
        for nc in connections:
            await nc.close()


def status(holder: str, address: str) -> MailboxStatus:
    return MailboxStatus(address=address, protocol=MailboxProtocol.IMAP, holder=holder, polled_at=NOW)


async def test_of_two_replicas_taking_one_mailbox_at_once_one_does(
    replicas: tuple[MailboxStatuses, MailboxStatuses],
) -> None:
    one, other = replicas
    address = f"support-{uuid.uuid4().hex[:8]}@example.com"
    assert await one.get(address) == (None, 0)

    taken = await one.put(status("intake-1", address), revision=0)
    lost = await other.put(status("intake-2", address), revision=0)  # read before the first wrote

    assert taken is not None
    assert lost is None
    held, revision = await other.get(address)
    assert held is not None
    assert (held.holder, revision) == ("intake-1", taken)
    assert await other.put(status("intake-2", address), revision=taken) is not None  # a takeover on what it read
    assert await one.put(status("intake-1", address), revision=taken) is None
