"""The faults beyond one service's process, under a steady load: the leading relay's replica killed (the standby
takes over), NATS killed and restarted, PostgreSQL stopped at once and restarted. After each, nothing accepted
is lost or doubled and nothing refused leaves a trace. ``make faults`` only (the scenarios take minutes)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from hostdesk_devtools.servers import OwnNats, OwnPostgres, free_port
from hostdesk_devtools.system import SERVICES, System

from tests.faults.harness import Deployment, pace
from tests.faults.ledger import audit
from tests.faults.load import Load
from tests.support import eventually

pytestmark = [pytest.mark.faults_long, pytest.mark.timeout(600)]


async def _leads_the_relay(system: System, name: str) -> bool:
    async with httpx.AsyncClient(timeout=2.0) as http:
        try:
            response = await http.get(f"{system.url(name)}/readyz")
        except httpx.TransportError:
            return False
    return response.status_code == 200 and response.json().get("relay_leader") is True


async def _all_ready(system: System) -> None:
    await asyncio.gather(*(asyncio.to_thread(system.wait_ready, service) for service in SERVICES))


async def test_the_standby_relay_takes_over_when_the_leading_tickets_replica_is_killed_under_load(
    own_deployment: Deployment,
) -> None:
    deployment, steps = own_deployment, pace()
    system = deployment.system
    replicas = ["tickets", "tickets-2"]
    system.start_replica("tickets", name="tickets-2", port=free_port())
    await asyncio.to_thread(system.wait_ready, "tickets-2")

    async with Load(deployment, rate=steps.rate) as load:
        await load.sent_more(steps.before)
        leading = [name for name in replicas if await _leads_the_relay(system, name)]
        assert len(leading) == 1, f"replicas leading the relay: {leading}"
        (leader,) = leading
        (standby,) = [name for name in replicas if name != leader]
        system.kill(leader)
        killed_at = time.monotonic()
        await eventually(lambda: _leads_the_relay(system, standby), within=30, every=0.1)
        takeover = time.monotonic() - killed_at
        await load.sent_more(steps.during)
        await asyncio.to_thread(system.restart, leader)
        await load.sent_more(steps.after)

    report = await audit(deployment, load, fault=f"kill -9 {leader}, the leading relay", mail_resends_possible=False)
    report.add(f"relay: {standby} took over {takeover:.1f}s after {leader} was killed")
    print(report)
    assert not report.problems, str(report)
    assert not await _leads_the_relay(system, leader), "the restarted replica took the lead back from the standby"


async def test_nats_killed_and_restarted_under_load_loses_nothing_and_does_nothing_twice(
    own_deployment: Deployment, own_nats: OwnNats
) -> None:
    deployment, steps = own_deployment, pace()

    async with Load(deployment, rate=steps.rate) as load:
        await load.sent_more(steps.before)
        own_nats.kill()
        await load.sent_more(steps.during)
        await asyncio.to_thread(own_nats.start)
        await _all_ready(deployment.system)
        await load.sent_more(steps.after)

    report = await audit(deployment, load, fault="kill -9 nats-server, then start", mail_resends_possible=False)
    print(report)
    assert not report.problems, str(report)


async def test_postgresql_stopped_at_once_and_restarted_under_load_loses_nothing_and_does_nothing_twice(
    own_deployment: Deployment, own_postgres: OwnPostgres
) -> None:
    deployment, steps = own_deployment, pace()

    async with Load(deployment, rate=steps.rate) as load:
        await load.sent_more(steps.before)
        await asyncio.to_thread(own_postgres.kill)
        await load.sent_more(steps.during)
        await asyncio.to_thread(own_postgres.start)
        await _all_ready(deployment.system)
        await load.sent_more(steps.after)

    # A mail sent just before the database went away may be sent again, with the same Message-ID (by design).
    report = await audit(deployment, load, fault="pg_ctl stop -m immediate, then start", mail_resends_possible=True)
    print(report)
    assert not report.problems, str(report)
