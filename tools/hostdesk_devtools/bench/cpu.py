"""Where the CPU went during a phase: each service, the bench database's PostgreSQL backends, nats-server, this
process, and the machine as a whole (so that work other than the run's shows too)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psutil

POSTGRES = "postgres"
NATS = "nats-server (shared)"
BENCH = "bench process"
MACHINE = "machine"


@dataclass(frozen=True)
class CpuSnapshot:
    at: float  # monotonic
    seconds: dict[str, float]  # CPU seconds so far, by name; PostgreSQL backends as "postgres:<pid>"


def _cpu_seconds(process: psutil.Process) -> float:
    """The process's own CPU time: not its children's (wrk, a child of this process, is counted apart)."""
    times = process.cpu_times()
    return float(times.user + times.system)


def _machine_busy() -> float:
    times = psutil.cpu_times()
    return float(times.user + times.nice + times.system + getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0))


class CpuMeter:
    def __init__(self, *, database: str) -> None:
        self._database = database
        self._watched: dict[str, psutil.Process] = {BENCH: psutil.Process(os.getpid())}

    def watch(self, name: str, pid: int) -> None:
        self._watched[name] = psutil.Process(pid)

    def snapshot(self) -> CpuSnapshot:
        seconds = {MACHINE: _machine_busy()}
        for name, process in self._watched.items():
            try:
                seconds[name] = _cpu_seconds(process)
            except psutil.Error:
                continue
        for process in psutil.process_iter(["name", "cmdline"]):
            try:
                command = " ".join(process.info["cmdline"] or [])
                if process.info["name"] == "nats-server":
                    seconds[NATS] = seconds.get(NATS, 0.0) + _cpu_seconds(process)
                elif command.startswith("postgres:") and f" {self._database} " in f"{command} ":
                    seconds[f"{POSTGRES}:{process.pid}"] = _cpu_seconds(process)
            except psutil.Error:
                continue
        return CpuSnapshot(at=time.monotonic(), seconds=seconds)


def cores(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """CPU cores used on average between two snapshots, by name; the PostgreSQL backends summed (a backend
    that started in between counts from zero)."""
    wall = after.at - before.at
    if wall <= 0:
        return {}
    used: dict[str, float] = {}
    for key, seconds in after.seconds.items():
        name = POSTGRES if key.startswith(f"{POSTGRES}:") else key
        if key in before.seconds or name == POSTGRES:
            used[name] = used.get(name, 0.0) + (seconds - before.seconds.get(key, 0.0)) / wall
    return used
