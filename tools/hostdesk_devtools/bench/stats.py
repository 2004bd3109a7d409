"""Figures from recorded requests: rates, percentiles, one-second buckets. Pure functions, no I/O."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

COMMITTED = 201  # the answer that counts: the command's events are stored


@dataclass(frozen=True, slots=True)
class Sample:
    """One request as the load generator saw it."""

    sent_at: float  # seconds on the machine's monotonic clock (CLOCK_MONOTONIC, as ``time.monotonic()``)
    latency: float  # seconds
    status: int

    @property
    def finished_at(self) -> float:
        return self.sent_at + self.latency


def parse_records(text: str) -> list[Sample]:
    """The recorder's lines, ``<sent µs> <latency µs> <status>``, as samples. Blank lines are skipped."""
    samples = []
    for line in text.splitlines():
        if not line.strip():
            continue
        sent_us, latency_us, status = line.split()
        samples.append(Sample(int(sent_us) / 1e6, int(latency_us) / 1e6, int(status)))
    return samples


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of values already sorted; NaN when there are none."""
    if not values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(values)))
    return values[rank - 1]


@dataclass(frozen=True)
class Quantiles:
    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Quantiles:
        ordered = sorted(values)
        return cls(percentile(ordered, 50), percentile(ordered, 95), percentile(ordered, 99))

    def in_ms(self) -> Quantiles:
        return Quantiles(self.p50 * 1000, self.p95 * 1000, self.p99 * 1000)


@dataclass(frozen=True)
class LoadSummary:
    """A phase of load: how many requests were committed per second, and how long each took (in ms)."""

    requests: int
    committed: int
    seconds: float
    statuses: dict[int, int]
    latency_ms: Quantiles  # of the committed requests only

    @property
    def rate(self) -> float:
        return self.committed / self.seconds if self.seconds > 0 else 0.0

    @property
    def others(self) -> dict[int, int]:
        """The answers other than 201, by status (0 stands for no answer: a socket error or a time-out)."""
        return {status: count for status, count in self.statuses.items() if status != COMMITTED}


def summarize(samples: Sequence[Sample], *, seconds: float, extra_failures: int = 0) -> LoadSummary:
    statuses = Counter(sample.status for sample in samples)
    if extra_failures:
        statuses[0] += extra_failures
    committed = [sample.latency for sample in samples if sample.status == COMMITTED]
    return LoadSummary(
        requests=len(samples) + extra_failures,
        committed=len(committed),
        seconds=seconds,
        statuses=dict(sorted(statuses.items())),
        latency_ms=Quantiles.of(committed).in_ms(),
    )


@dataclass(frozen=True)
class Second:
    """One second of a phase, by the time requests finished: committed per second and their latency."""

    at: float  # seconds since the phase started
    committed: int
    p50_ms: float
    p99_ms: float


def per_second(samples: Iterable[Sample], *, start: float, seconds: float) -> list[Second]:
    """One bucket per whole second of ``seconds`` from ``start``, by finishing time; a last partial second is
    left out, empty seconds are kept."""
    buckets: dict[int, list[float]] = {index: [] for index in range(int(seconds))}
    for sample in samples:
        index = math.floor(sample.finished_at - start)
        if sample.status == COMMITTED and index in buckets:
            buckets[index].append(sample.latency)
    series = []
    for index, unsorted in buckets.items():
        latencies = sorted(unsorted)
        series.append(
            Second(
                at=float(index),
                committed=len(latencies),
                p50_ms=percentile(latencies, 50) * 1000,
                p99_ms=percentile(latencies, 99) * 1000,
            )
        )
    return series


@dataclass(frozen=True)
class Limit:
    name: str
    per_second: float


@dataclass(frozen=True)
class Verdict:
    """A throughput figure beside a limit: their ratio, and whether the figure may be the generator's."""

    ratio: float | None
    generator_bound: bool
    notes: list[str] = field(default_factory=list)


GENERATOR_BOUND_SHARE = 0.8  # a figure this close to the generator's ceiling may be the generator's
BELOW_OFFERED_SHARE = 0.95


def judge(rate: float, *, limit: Limit | None, ceiling: float, offered: float | None = None) -> Verdict:
    notes = []
    bound = ceiling > 0 and rate >= GENERATOR_BOUND_SHARE * ceiling
    if bound:
        notes.append(f"generator-bound (>= {GENERATOR_BOUND_SHARE:.0%} of its ceiling)")
    if offered is not None and rate < BELOW_OFFERED_SHARE * offered:
        notes.append(f"below the offered {offered:,.0f}/s: the system is saturated")
    ratio = rate / limit.per_second if limit is not None and limit.per_second > 0 else None
    return Verdict(ratio=ratio, generator_bound=bound, notes=notes)
