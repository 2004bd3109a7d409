"""A message that always makes a consumer fail is dead-lettered after a bounded number of deliveries, and the
events published after it are applied (and mailed) meanwhile, without waiting for its retries to run out.

Two kinds of poison, each valid JSON: a staff reply to a ticket that was never opened (the consumer waits for
the ticket, retrying), and a ticket whose number is beyond PostgreSQL's bigint, which the database refuses.
The events behind them: a ticket opened, and a staff reply to it (which mails the requester).

Runs on the machine's shared servers (nothing is restarted), with shorter pauses between retries than the
defaults so that the bounded number of deliveries (the default, 10) is used up within seconds.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostdesk_contracts.base import Role
from hostdesk_contracts.events import TicketEvent
from hostdesk_contracts.subjects import Subjects
from hostdesk_devtools.servers import Server

from tests.faults.events import opened, publish, staff_reply
from tests.faults.harness import Deployment, deployed
from tests.support import eventually

MAX_DELIVER = 10  # the services' default
GOOD_EVENTS_WITHIN = 15.0  # far less than the poison's retries take
DEAD_LETTER_WITHIN = 30.0  # with the pauses set below, ten deliveries take under ten seconds
REQUESTER = "owner@customer.example"


def _poison(kind: str, tenant: str) -> TicketEvent:
    if kind == "reply to a ticket never opened":
        return staff_reply(tenant, uuid.uuid4(), version=2, body="An answer to nothing.")
    return opened(tenant, uuid.uuid4(), requester_email=REQUESTER, number=2**63)  # beyond PostgreSQL's bigint


POISONS = ["reply to a ticket never opened", "value the database refuses"]


@pytest.fixture
def query_only(
    postgres_server: Server, nats_server: Server, nats_url: str, declared_streams: Subjects, tmp_path: Path
) -> Iterator[Deployment]:
    subjects = declared_streams  # as the tickets service, not started here, declares them
    with deployed(
        server_url=postgres_server.url,
        nats_url=nats_url,
        nats_access=nats_server.access,
        subject_root=subjects.root,
        log_dir=tmp_path / "logs",
        services=("query",),
        extra_env={
            "QUERY_GAP_RETRY_SECONDS": "0.25",
            "QUERY_GAP_RETRY_MAX_SECONDS": "1",
            "QUERY_ACK_WAIT_SECONDS": "3",
        },
    ) as deployment:
        yield deployment


@pytest.fixture
def notify_only(
    postgres_server: Server, nats_server: Server, nats_url: str, declared_streams: Subjects, tmp_path: Path
) -> Iterator[Deployment]:
    subjects = declared_streams  # as the tickets service, not started here, declares them
    with deployed(
        server_url=postgres_server.url,
        nats_url=nats_url,
        nats_access=nats_server.access,
        subject_root=subjects.root,
        log_dir=tmp_path / "logs",
        services=("notify",),
        extra_env={
            "NOTIFY_GAP_RETRY_SECONDS": "0.5",
            "NOTIFY_GAP_RETRY_MAX_SECONDS": "1",
            "NOTIFY_ACK_WAIT_SECONDS": "3",
        },
    ) as deployment:
        yield deployment


async def _dead_letters(deployment: Deployment, table: str, stream_seq: int) -> list[dict[str, Any]]:
    connection = await deployment.connect()
    try:
        rows = await connection.fetch(f"SELECT * FROM {table} WHERE stream_seq = $1", stream_seq)
    finally:
        await connection.close()
    return [dict(row) for row in rows]


@pytest.mark.parametrize("kind", POISONS)
async def test_query_dead_letters_a_poison_event_without_holding_up_the_events_behind_it(
    query_only: Deployment, nats_url: str, subjects: Subjects, kind: str
) -> None:
    deployment = query_only
    good = uuid.uuid4()
    poison = _poison(kind, deployment.tenant)
    behind = [
        opened(deployment.tenant, good, requester_email=REQUESTER),
        staff_reply(deployment.tenant, good, version=2, body="Cleared the logs."),
    ]

    poison_seq, *_ = await publish(nats_url, subjects, [poison, *behind])
    published = time.monotonic()

    async with deployment.client("query", deployment.token("agent-1", Role.AGENT)) as query:

        async def good_events_applied() -> bool:
            response = await query.get(f"/v1/tickets/{good}")
            return response.status_code == 200 and response.json()["version"] == 2

        await eventually(good_events_applied, within=GOOD_EVENTS_WITHIN)
        applied_after = time.monotonic() - published
        letters_when_applied = await _dead_letters(deployment, "query.dead_letters", poison_seq)

        async def dead_lettered() -> bool:
            return bool(await _dead_letters(deployment, "query.dead_letters", poison_seq))

        await eventually(dead_lettered, within=DEAD_LETTER_WITHIN, every=0.25)
        dead_after = time.monotonic() - published
        (letter,) = await _dead_letters(deployment, "query.dead_letters", poison_seq)
        poisoned = await query.get(f"/v1/tickets/{poison.ticket_id}")

    print(
        f"\nquery, poison '{kind}': events behind it applied after {applied_after:.1f}s; poison dead-lettered after "
        f"{dead_after:.1f}s and {letter['deliveries']} deliveries: {letter['error'][:100]}"
    )
    assert 1 <= letter["deliveries"] <= MAX_DELIVER
    if kind == "reply to a ticket never opened":
        assert letters_when_applied == [], "the events behind the poison waited for its retries to run out"
        assert letter["deliveries"] == MAX_DELIVER
    assert poisoned.status_code == 404


@pytest.mark.parametrize("kind", POISONS)
async def test_notify_dead_letters_a_poison_event_without_holding_up_the_mail_behind_it(
    notify_only: Deployment, nats_url: str, subjects: Subjects, kind: str
) -> None:
    deployment = notify_only
    good = uuid.uuid4()
    poison = _poison(kind, deployment.tenant)
    behind = [
        opened(deployment.tenant, good, requester_email=REQUESTER),
        staff_reply(deployment.tenant, good, version=2, body=f"Cleared the logs ({good})."),
    ]

    poison_seq, *_ = await publish(nats_url, subjects, [poison, *behind])
    published = time.monotonic()

    await deployment.sink.mailbox.wait_for_async(lambda mail: str(good) in mail.body, within=GOOD_EVENTS_WITHIN)
    mailed_after = time.monotonic() - published
    letters_when_mailed = await _dead_letters(deployment, "notify.dead_letters", poison_seq)

    async def dead_lettered() -> bool:
        return bool(await _dead_letters(deployment, "notify.dead_letters", poison_seq))

    try:
        await eventually(dead_lettered, within=DEAD_LETTER_WITHIN, every=0.25)
    except AssertionError as error:
        raise AssertionError(
            f"notify did not dead-letter the poison '{kind}' within {DEAD_LETTER_WITHIN:.0f}s "
            f"(the mail behind it was sent after {mailed_after:.1f}s)"
        ) from error
    dead_after = time.monotonic() - published
    (letter,) = await _dead_letters(deployment, "notify.dead_letters", poison_seq)

    print(
        f"\nnotify, poison '{kind}': the mail behind it sent after {mailed_after:.1f}s; poison dead-lettered after "
        f"{dead_after:.1f}s: {letter['error'][:120]}"
    )
    if kind == "reply to a ticket never opened":
        assert letters_when_mailed == [], "the mail behind the poison waited for its retries to run out"
        assert f"after {MAX_DELIVER} deliveries" in letter["error"]
    assert len(deployment.sink.mailbox.matching(lambda mail: str(good) in mail.body)) == 1
