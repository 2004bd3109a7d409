"""A bounded load of ticket opens against a running system (``make run``): how many ``201`` per second.

``python -m hostdesk_devtools.loadgen --requests 3000 --processes 2 --concurrency 32``

Several client processes, each with many requests in flight, so that the client is less often what limits
the figure; the full benchmark with the machine's raw limits beside each figure is ``make bench`` (to come).
Loopback only; bounded in requests and time.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
from collections import Counter
from pathlib import Path

import httpx
from hostdesk_contracts.base import Role
from hostdesk_contracts.runtime.auth import issue_token

TENANT = "demo"


def _demo_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {key: value for key, value in pairs}


async def _client(
    url: str, secret: str, count: int, concurrency: int, deadline: float
) -> tuple[list[float], Counter[int]]:
    latencies: list[float] = []
    failures: Counter[int] = Counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:

        async def worker(index: int) -> None:
            # One customer account per worker: the per-account rate limit is not what this measures.
            account = f"load-{os.getpid()}-{index}"
            token = issue_token(secret=secret, account_id=account, tenant=TENANT, role=Role.CUSTOMER)
            headers = {"Authorization": f"Bearer {token}"}
            while not queue.empty() and time.monotonic() < deadline:
                n = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(
                    "/v1/tickets", headers=headers, json={"subject": f"Load {account} {n}", "body": "Generated."}
                )
                if response.status_code == 201:
                    latencies.append(time.perf_counter() - started)
                else:
                    failures[response.status_code] += 1

        await asyncio.gather(*(worker(index) for index in range(concurrency)))
    return latencies, failures


def _process(args: tuple[str, str, int, int, float]) -> tuple[list[float], Counter[int]]:
    return asyncio.run(_client(*args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight per process")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--env", type=Path, default=Path(".run/demo.env"))
    options = parser.parse_args()
    env = _demo_env(options.env)
    url = env["INTAKE_URL"]
    if not url.startswith(("http://127.", "http://localhost")):
        raise SystemExit("the load generator only targets this machine")
    per_process = options.requests // options.processes
    deadline = time.monotonic() + options.max_seconds
    secret = (options.env.parent / "jwt-secret").read_text(encoding="utf-8").strip()
    jobs = [(url, secret, per_process, options.concurrency, deadline)] * options.processes
    started = time.perf_counter()
    with multiprocessing.Pool(options.processes) as pool:
        results = pool.map(_process, jobs)
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for part, _ in results for latency in part)
    failures: Counter[int] = sum((failed for _, failed in results), Counter())
    if not latencies:
        raise SystemExit(f"no 201 at all; answers: {dict(failures)}")
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"{len(latencies)} tickets opened (201) in {elapsed:.1f}s: {len(latencies) / elapsed:.0f}/s; "
        f"other answers {dict(failures)}; latency p50 {quantiles[49] * 1000:.1f} ms, "
        f"p95 {quantiles[94] * 1000:.1f} ms, p99 {quantiles[98] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
