"""``kill -9`` of each service under a steady load, then a restart: nothing accepted is lost or doubled, nothing
refused leaves a trace. The counts are printed; ``make faults`` runs a longer load than ``make test``."""

from __future__ import annotations

import asyncio

import pytest
from hostdesk_devtools.system import SERVICES

from tests.faults.harness import Deployment, pace
from tests.faults.ledger import audit
from tests.faults.load import Load


@pytest.mark.parametrize("service", SERVICES)
async def test_a_service_killed_and_restarted_under_load_loses_nothing_and_does_nothing_twice(
    own_deployment: Deployment, service: str
) -> None:
    deployment, steps = own_deployment, pace()

    async with Load(deployment, rate=steps.rate) as load:
        await load.sent_more(steps.before)
        deployment.system.kill(service)
        await load.sent_more(steps.during)
        await asyncio.to_thread(deployment.system.restart, service)
        await load.sent_more(steps.after)

    report = await audit(deployment, load, fault=f"kill -9 {service}", mail_resends_possible=service == "notify")
    print(report)
    assert not report.problems, str(report)
