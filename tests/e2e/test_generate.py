"""``hostdesk generate`` through the whole system: the provider's tree and its tickets go through the commands
stream and the event log into the read models, and read back as the provider's staff see them."""

from __future__ import annotations

import asyncio
import os
import sys

from hostdesk_cli.generate import Shape, provider_of, ticket_commands
from hostdesk_contracts.commands import OpenTicket
from hostdesk_contracts.runtime.auth import issue_token

from tests.e2e.conftest import SECRET, Running
from tests.support import eventually

SHAPE = Shape(tickets=120, resellers=2, customers=12, subaccounts=4, provider_agents=3)


async def test_a_generated_provider_reads_back_through_the_read_side(running: Running) -> None:
    env = os.environ | {
        "HOSTDESK_NATS_URL": running.nats_url,
        "HOSTDESK_ROOT": running.subjects.root,
        "HOSTDESK_TENANT": running.tenant,
        "HOSTDESK_DATABASE_URL": running.system.config.database_url,
    }
    args = [f"--{name}={value}" for name, value in (("tickets", SHAPE.tickets), ("resellers", SHAPE.resellers))]
    args += [f"--customers={SHAPE.customers}", f"--subaccounts={SHAPE.subaccounts}", "--seed=7"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hostdesk_cli",
        "generate",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0, output.decode()[-2000:]

    provider = provider_of(running.tenant, SHAPE, seed=7)
    openings = [ticket_commands(provider, index, seed=7)[0] for index in range(SHAPE.tickets)]
    handled = [o for o in openings if isinstance(o, OpenTicket) and o.department is not None]  # the provider's own
    supervisor = issue_token(secret=SECRET, account_id=f"{running.tenant}-supervisor")
    async with running.client("query", supervisor) as query:

        async def all_there() -> bool:
            response = await query.get("/v1/tickets/counts")
            return response.status_code == 200 and response.json()["total"]["count"] == len(handled)

        await eventually(all_there, within=120, what="the provider's generated tickets in the read model")
        french = await query.get("/v1/search", params={"q": "erreur"})
        english = await query.get("/v1/search", params={"q": "restarted"})

    assert french.status_code == english.status_code == 200
    assert french.json()["items"] or english.json()["items"]
