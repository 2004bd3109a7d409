"""The run's options, and the settings recorded with its results."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

import psutil

from hostdesk_devtools.bench.report import TARGET_RATE_FOR_LATENCY
from hostdesk_devtools.bench.stage import Stage
from hostdesk_devtools.bench.wrk import ensure_wrk


@dataclass(frozen=True)
class Options:
    seconds: float  # per load phase
    connections: int
    limit_seconds: float
    http_limit_seconds: float
    warmup_seconds: float
    lag_samples: int
    open_rates: tuple[float, ...]
    reply_rates: tuple[float, ...]
    settle_within: float
    rebuild_within: float
    intake_processes: int = 1  # intake processes sharing its port
    mails: int = 1_000  # support mails sent in, to the bare SMTP server and to intake
    mail_connections: int = 8  # SMTP sessions at once, as an MTA's deliveries to one host
    files: int = 64  # attachments of 1 MiB up and down
    file_concurrency: int = 4  # requests in flight at once, as a few browsers

    @property
    def steps(self) -> int:
        """Steps of the progress bar: three limits and the authorisation check, the start, the warm-up, each phase,
        support mail in, mail out, attachments and the rebuild."""
        return 4 + 1 + 1 + 1 + len(self.open_rates) + 1 + len(self.reply_rates) + 1 + 1 + 1 + 1


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m hostdesk_devtools.bench",
        description="The system's figures beside the machine's raw limits, measured in one run.",
    )
    parser.add_argument("--quick", action="store_true", help="short phases and fewer samples: a smoke run")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per load phase (20; 5 with --quick)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections, one per thread (64)")
    parser.add_argument(
        "--intake-processes",
        type=int,
        default=2,
        help="intake processes sharing its port, as one per core on one machine (2)",
    )
    arguments = parser.parse_args(argv)
    quick: bool = arguments.quick
    seconds: float = arguments.seconds or (5.0 if quick else 20.0)
    if not 1 <= seconds <= 120:
        parser.error("--seconds must be between 1 and 120")
    if not 1 <= arguments.connections <= 512:
        parser.error("--connections must be between 1 and 512")
    if not 1 <= arguments.intake_processes <= 16:
        parser.error("--intake-processes must be between 1 and 16")
    return Options(
        seconds=seconds,
        connections=arguments.connections,
        limit_seconds=1.5 if quick else 3.0,
        http_limit_seconds=3.0 if quick else 5.0,
        warmup_seconds=2.0 if quick else 3.0,
        lag_samples=40 if quick else 200,
        open_rates=(250.0, float(TARGET_RATE_FOR_LATENCY), 1000.0),
        reply_rates=(float(TARGET_RATE_FOR_LATENCY),),
        settle_within=30.0 if quick else 60.0,
        rebuild_within=60.0 if quick else 120.0,
        intake_processes=arguments.intake_processes,
        mails=200 if quick else 1_000,
        files=16 if quick else 64,
    )


def _wrk_version() -> str:
    output = subprocess.run([ensure_wrk(), "--version"], capture_output=True, text=True, check=False).stdout
    return output.splitlines()[0] if output else "unknown"


def describe(options: Options, stage: Stage) -> dict[str, Any]:
    """What the figures were measured with, recorded beside them."""
    return {
        "options": asdict(options),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "load_average_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "wrk": _wrk_version(),
        },
        "postgres": stage.postgres.origin,
        "nats": stage.nats.origin,
        "subject_root": stage.subjects.root,
        "ports": stage.config.ports,
    }
