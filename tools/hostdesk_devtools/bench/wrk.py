"""The load generator: wrk (C, epoll) with ``recorder.lua``, which times every request and paces them.

wrk runs one connection per thread, so that each response answers the request its thread sent just before:
the Lua hooks then know every request's latency, and ``delay()`` can hold each connection to an interval
(wrk has no rate option, and Debian has no wrk2). Every run is bounded in time (``-d``) and in requests.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from hostdesk_devtools.bench.stats import Sample, parse_records

REQUEST_TIMEOUT_SECONDS = 10


class GeneratorMissing(RuntimeError):
    pass


def ensure_wrk() -> str:
    """wrk's path, installed from Debian's packages first when it is missing and we may install."""
    if found := shutil.which("wrk"):
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise GeneratorMissing("the benchmark needs wrk: install it (Debian: apt-get install wrk) and run it again")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=quiet)
    if found := shutil.which("wrk"):
        return found
    raise GeneratorMissing("apt-get installed no wrk")


@dataclass(frozen=True)
class Request:
    """One request wrk may send: a POST of a JSON body with a bearer token."""

    path: str
    token: str
    body: str


def lua_string(text: str) -> str:
    """A Lua string literal. Only printable ASCII goes in (LuaJIT knows no ``\\u`` escapes)."""
    if not all(" " <= char <= "~" for char in text):
        raise ValueError(f"not printable ASCII: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_requests(requests: Sequence[Request]) -> str:
    """The data file ``recorder.lua`` loads: ``return { requests = { {path=, token=, body=}, ... } }``."""
    items = (
        f"  {{path={lua_string(item.path)}, token={lua_string(item.token)}, body={lua_string(item.body)}}},"
        for item in requests
    )
    return "return { requests = {\n" + "\n".join(items) + "\n} }\n"


def parse_summary(text: str) -> dict[str, int]:
    """``summary.txt`` as written by ``done()``: ``key=value`` lines of integers."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): int(value) for key, value in pairs}


@dataclass(frozen=True)
class WrkRun:
    samples: list[Sample]
    ticket_ids: list[str]
    seconds: float  # wrk's own measure of the run
    socket_errors: int  # requests with no answer: connect, read and write errors and time-outs
    cpu_seconds: float  # the generator's own CPU time (user + system)
    connections: int
    offered_rate: float | None

    @property
    def cpu_cores(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 0.0


def _write_requests(folder: Path, requests: Sequence[Request]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "requests.lua"
    data.write_text(lua_requests(requests), encoding="ascii")
    return data


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def read_run(folder: Path) -> tuple[list[Sample], list[str], dict[str, int]]:
    samples: list[Sample] = []
    ticket_ids: list[str] = []
    for path in sorted(folder.glob("thread-*.txt")):
        samples.extend(parse_records(path.read_text(encoding="ascii")))
    for path in sorted(folder.glob("ids-*.txt")):
        ticket_ids.extend(line for line in path.read_text(encoding="ascii").splitlines() if line)
    summary = parse_summary((folder / "summary.txt").read_text(encoding="ascii"))
    samples.sort(key=lambda sample: sample.sent_at)
    return samples, ticket_ids, summary


async def run_wrk(
    url: str,
    requests: Sequence[Request],
    *,
    folder: Path,
    connections: int,
    seconds: float,
    rate: float | None = None,
    max_requests: int,
    keep_ids: int = 0,
) -> WrkRun:
    """Send ``requests`` (cycled) to ``url`` over ``connections`` for ``seconds``, at most ``max_requests``;
    at ``rate`` requests per second in all when given, else as fast as answers come back."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("the load generator only targets this machine")
    if len(requests) < connections:
        raise ValueError(f"{len(requests)} requests for {connections} connections: each thread needs one")
    data = await asyncio.to_thread(_write_requests, folder, requests)
    interval_us = 0 if rate is None else round(connections / rate * 1e6)
    environment = {
        **os.environ,
        "BENCH_DATA": str(data),
        "BENCH_OUT": str(folder),
        "BENCH_INTERVAL": str(interval_us),
        "BENCH_MAX": str(max(1, max_requests // connections)),
        "BENCH_THREADS": str(connections),
        "BENCH_IDS": str(keep_ids),
    }
    script = files("hostdesk_devtools.bench").joinpath("recorder.lua")
    command = [
        *(ensure_wrk(), f"-t{connections}", f"-c{connections}", f"-d{max(1, round(seconds))}s"),
        *(f"--timeout={REQUEST_TIMEOUT_SECONDS}s", "-s", str(script), url),
    ]
    cpu_before = _children_cpu()
    process = await asyncio.create_subprocess_exec(
        *command, env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), seconds + REQUEST_TIMEOUT_SECONDS + 30)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {output.decode(errors='replace')[-2000:]}")
    samples, ticket_ids, summary = await asyncio.to_thread(read_run, folder)
    unanswered = sum(summary.get(key, 0) for key in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return WrkRun(
        samples=samples,
        ticket_ids=ticket_ids,
        seconds=summary["duration_us"] / 1e6,
        socket_errors=unanswered,
        cpu_seconds=_children_cpu() - cpu_before,
        connections=connections,
        offered_rate=rate,
    )
