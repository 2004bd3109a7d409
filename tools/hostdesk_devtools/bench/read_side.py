"""The read side over a generated provider: how long query takes to answer what its users ask most, beside its
own trivial endpoint measured in the same run.

``python -m hostdesk_devtools.bench.read_side [--tickets N] [--requests N]``

Starts a system of its own (like ``make bench``), fills it with ``hostdesk generate`` (the provider's tree, then
N tickets through the commands stream and the event log), waits until the read model holds them, then sends each
probe ``--requests`` times, one request after the other on one connection (after a few unmeasured ones), and
prints the median and the 99th percentile of each beside ``GET /healthz`` (no database, no authentication):
the ratio is what the machine's speed of the day does not change. The JSON goes to
``bench/results/<stamp>-read-side.json``.

With ``--copies N`` the generated tickets are copied N times over in the read model, in SQL (``bench.copies``),
before anything is measured: a read model of a million tickets in minutes rather than most of a day.

Last, live updates: ``--consoles`` staff streams (``bench.fan_out``) told of internal notes posted on one ticket,
beside one console alone in the same run. The provider's 31 staff take them in turn, so query is started with
``QUERY_LIVE_STREAMS_PER_CALLER`` raised to let each hold its share (a console per agent, as a provider with a
thousand agents has, costs query the same).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
from hostdesk_contracts.runtime.auth import issue_token

from hostdesk_devtools.bench.copies import copy_read_model
from hostdesk_devtools.bench.fan_out import FanOut, fan_out
from hostdesk_devtools.bench.stage import Stage, close_stage, open_stage, operator
from hostdesk_devtools.bench.stats import percentile
from hostdesk_devtools.bench.traffic import TENANT

RESULTS_DIR = Path("bench") / "results"
RUN_DIR = Path(".run") / "bench"
WARM_UP = 5
LONG_TICKET_POSTS = 200
PROVIDER_AGENTS = 30  # ``hostdesk generate``'s, beside its supervisor
QUERY_SCHEMA = "query"  # the stage's read model: version 1 is QUERY_DB_SCHEMA itself
FAN_OUT_POSTS = 50
FAN_OUT_PER_SECOND = 5.0


@dataclass(frozen=True)
class Figure:
    probe: str
    p50_ms: float
    p99_ms: float
    p99_over_baseline: float
    statuses: list[int]


def _probes(number: int, email: str) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Each probe's caller (``agent``, ``supervisor``, ``customer``), path and parameters."""
    supervisor, agent, customer = "supervisor", "agent", "customer"
    return {
        "healthz (baseline)": (agent, "/healthz", {}),
        "list, first page (agent)": (agent, "/v1/tickets", {"limit": "25"}),
        "list, filtered and sorted": (
            agent,
            "/v1/tickets",
            {"status": "customer_reply", "department": "Technical Support", "order": "priority", "limit": "25"},
        ),
        "my tickets (customer)": (customer, "/v1/tickets", {"limit": "25"}),
        "counts, not archived": (supervisor, "/v1/tickets/counts", {"archived": "false"}),
        "staff home": (agent, "/v1/home", {}),
        "search, a common word": (agent, "/v1/search", {"q": "server"}),
        "search, a rarer word": (agent, "/v1/search", {"q": "raid"}),
        "search, an e-mail address": (agent, "/v1/search", {"q": email}),
        "search, a number": (agent, "/v1/search", {"q": f"#{number}"}),
        "search, French": (agent, "/v1/search", {"q": "hébergement"}),
    }


async def _measure(
    client: httpx.AsyncClient, path: str, params: dict[str, str], requests: int
) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    statuses: set[int] = set()
    for attempt in range(WARM_UP + requests):
        started = time.perf_counter()
        response = await client.get(path, params=params)
        elapsed = time.perf_counter() - started
        statuses.add(response.status_code)
        if attempt >= WARM_UP:
            latencies.append(elapsed)
    return sorted(latencies), sorted(statuses)


async def run(tickets: int, requests: int, *, consoles: int, copies: int = 1, keep: bool = False) -> list[Figure]:
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    per_caller = -(-consoles // (PROVIDER_AGENTS + 1))
    stage = await open_stage(
        stamp, RUN_DIR, on_mail=lambda *_: None, environment={"QUERY_LIVE_STREAMS_PER_CALLER": str(max(5, per_caller))}
    )
    figures: list[Figure] = []
    fan_outs: list[FanOut] = []
    try:
        await asyncio.to_thread(stage.system.start)
        shape = [f"--tickets={tickets}", f"--customers={max(10, tickets // 50)}", f"--subaccounts={tickets // 200}"]
        started = time.monotonic()
        await asyncio.to_thread(operator, stage, "generate", "--resellers=10", *shape)
        generated = time.monotonic() - started
        tokens = {
            "supervisor": issue_token(secret=stage.secret, account_id=f"{TENANT}-supervisor"),
            "agent": issue_token(secret=stage.secret, account_id=f"{TENANT}-agent-1"),
            "customer": issue_token(secret=stage.secret, account_id=f"{TENANT}-customer-0"),
        }
        clients = {
            who: httpx.AsyncClient(base_url=stage.url("query"), headers={"Authorization": f"Bearer {token}"})
            for who, token in tokens.items()
        }
        try:
            await _until_read(clients["supervisor"], within=600)
            caught_up = time.monotonic() - started
            copying = time.monotonic()
            in_read_model = await copy_read_model(stage.database_url, QUERY_SCHEMA, copies=copies)
            copied = time.monotonic() - copying
            await _analyze(stage.database_url)  # as autovacuum would have by the time a provider has this many
            page = (await clients["customer"].get("/v1/tickets", params={"limit": "1"})).json()["items"]
            number = page[0]["number"] if page else 100_000
            long_ticket = await _long_ticket(stage.url("intake"), tokens, clients["agent"], posts=LONG_TICKET_POSTS)
            probes = _probes(number, "owner0@customer0.example")
            probes[f"a {LONG_TICKET_POSTS}-post timeline"] = (
                "agent",
                f"/v1/tickets/{long_ticket}",
                {"timeline_limit": str(LONG_TICKET_POSTS)},
            )
            baseline = 0.0
            for probe, (who, path, params) in probes.items():
                latencies, statuses = await _measure(clients[who], path, params, requests)
                p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
                baseline = baseline or p99
                figures.append(Figure(probe, round(p50, 2), round(p99, 2), round(p99 / baseline, 1), statuses))
            viewers = [tokens["supervisor"]] + [
                issue_token(secret=stage.secret, account_id=f"{TENANT}-agent-{n}") for n in range(PROVIDER_AGENTS)
            ]
            explained = RESULTS_DIR / f"{stamp}-explain.md"
            await asyncio.to_thread(_explain, stage, explained, number=number, ticket_id=long_ticket)
            for count in (1, consoles):
                fan_outs.append(
                    await fan_out(
                        stage.url("query"),
                        stage.url("intake"),
                        viewers=viewers,
                        author=tokens["agent"],
                        ticket_id=long_ticket,
                        consoles=count,
                        posts=FAN_OUT_POSTS,
                        per_second=FAN_OUT_PER_SECOND,
                    )
                )
        finally:
            for client in clients.values():
                await client.aclose()
    finally:
        if keep:
            print("\n".join(f"{f.probe}: p50 {f.p50_ms} ms, p99 {f.p99_ms} ms" for f in figures), flush=True)
            print(f"kept running: {stage.database_url} (query at {stage.url('query')}); Ctrl-C stops it", flush=True)
            await asyncio.Event().wait()
        await close_stage(stage)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{stamp}-read-side.json"
    out.write_text(
        json.dumps(
            {
                "tickets": tickets,
                "copies": copies,
                "tickets_read": in_read_model,
                "copy_seconds": round(copied, 1),
                "requests": requests,
                "generate_seconds": round(generated, 1),
                "until_read_seconds": round(caught_up, 1),
                "figures": [asdict(figure) for figure in figures],
                "fan_out": [asdict(result) for result in fan_outs],
            },
            indent=2,
        )
    )
    print(f"{tickets} tickets generated in {generated:.0f} s, all in the read model after {caught_up:.0f} s; {out}")
    if copies > 1:
        print(f"copied {copies} times in SQL in {copied:.0f} s: {in_read_model:,} tickets read")
    print(f"{'probe':32} {'p50 ms':>8} {'p99 ms':>8} {'p99 / healthz':>14}  statuses")
    for figure in figures:
        ratio = figure.p99_over_baseline
        print(f"{figure.probe:32} {figure.p50_ms:8.2f} {figure.p99_ms:8.2f} {ratio:14.1f}  {figure.statuses}")
    for result in fan_outs:
        print(
            f"live updates, {result.consoles:,} console(s): commit to delivery p50 {result.p50_ms} ms,"
            f" p99 {result.p99_ms} ms, max {result.max_ms} ms; {result.deliveries:,} of {result.expected:,}"
            f" changes delivered; {result.ended} streams ended"
        )
    if len(fan_outs) == 2 and fan_outs[0].p99_ms:
        print(f"p99 with {fan_outs[1].consoles:,} consoles / with one: {fan_outs[1].p99_ms / fan_outs[0].p99_ms:.1f}x")
    return figures


def _explain(stage: Stage, out: Path, *, number: int, ticket_id: str) -> None:
    """The plans of the probes' reads and the read model's size, from query's own explaining entry point."""
    out.parent.mkdir(parents=True, exist_ok=True)
    arguments = [
        f"--tenant={TENANT}",
        f"--staff={TENANT}-agent-1",
        "--departments=Technical Support",
        f"--customer={TENANT}-customer-0",
        "--email=owner0@customer0.example",
        f"--number=#{number}",
        f"--ticket={ticket_id}",
    ]
    with out.open("w") as written:
        subprocess.run(
            [sys.executable, "-m", "hostdesk_query.entrypoints.explain", *arguments],
            env=stage.config.environment("query"),
            stdout=written,
            check=True,
        )
    print(f"plans and sizes: {out}", flush=True)


async def _long_ticket(intake: str, tokens: dict[str, str], query: httpx.AsyncClient, *, posts: int) -> str:
    """A ticket of ``posts`` posts, the customer and an agent taking turns, through intake; once query has it."""
    heads = {who: {"Authorization": f"Bearer {token}"} for who, token in tokens.items()}
    async with httpx.AsyncClient(base_url=intake, timeout=30) as client:
        opened = await client.post(
            "/v1/tickets", headers=heads["customer"], json={"subject": "A long story", "body": "It began on Monday."}
        )
        opened.raise_for_status()
        ticket_id = str(opened.json()["ticket_id"])
        for post in range(1, posts):
            who = "agent" if post % 2 else "customer"
            body = {"body": f"Post {post}: the server answered again, then stopped once more."}
            answered = await client.post(f"/v1/tickets/{ticket_id}/replies", headers=heads[who], json=body)
            answered.raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = await query.get(f"/v1/tickets/{ticket_id}", params={"timeline_limit": "1"})
        if seen.status_code == 200 and seen.json()["version"] >= posts:
            return ticket_id
        await asyncio.sleep(0.5)
    raise TimeoutError("the long ticket did not reach the read model in time")


async def _analyze(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _until_read(supervisor: httpx.AsyncClient, *, within: float) -> None:
    """Once the read model's count of the provider's tickets stops moving and the tickets service is idle."""
    deadline = time.monotonic() + within
    last = -1
    while time.monotonic() < deadline:
        response = await supervisor.get("/v1/tickets/counts")
        count = response.json()["total"]["count"] if response.status_code == 200 else -1
        if count == last and count > 0:
            return
        last = count
        await asyncio.sleep(3.0)
    raise TimeoutError("the read model did not settle in time")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m hostdesk_devtools.bench.read_side")
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--consoles", type=int, default=1_000, help="live streams open at once (1,000)")
    parser.add_argument(
        "--copies",
        type=int,
        default=1,
        help="copy the generated tickets in the read model this many times (bench.copies)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the system running after the probes (to explain)")
    arguments = parser.parse_args()
    if not 1 <= arguments.consoles <= 10_000:
        parser.error("--consoles must be between 1 and 10,000")
    if not 1 <= arguments.copies <= 1_000:
        parser.error("--copies must be between 1 and 1,000")
    asyncio.run(
        run(
            arguments.tickets,
            arguments.requests,
            consoles=arguments.consoles,
            copies=arguments.copies,
            keep=arguments.keep,
        )
    )


if __name__ == "__main__":
    main()
