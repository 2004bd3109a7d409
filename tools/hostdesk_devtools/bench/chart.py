"""The run as a picture: latency and throughput per second through the phases, and the lag samples."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import matplotlib

from hostdesk_devtools.bench.cpu import MACHINE
from hostdesk_devtools.bench.lag import NOTIFICATION_WAIT_SECONDS
from hostdesk_devtools.bench.phases import Phase
from hostdesk_devtools.bench.report import (
    TARGET_OPENS_PER_SECOND,
    TARGET_P99_MS,
    TARGET_PROJECTION_P99_MS,
    Results,
)


def _draw_cpu(axis: Any, phases: list[Phase], *, origin: float) -> None:
    """A stacked bar per phase: the cores each process used on average, and the machine's total beside it."""
    names = sorted({name for phase in phases for name in phase.cpu_cores if name != MACHINE})
    colours = _colours(len(names))
    for phase in phases:
        offset = phase.started_at - origin
        middle, width = offset + phase.run.seconds / 2, phase.run.seconds * 0.5
        bottom = 0.0
        for index, name in enumerate(names):
            share = phase.cpu_cores.get(name, 0.0)
            label = name if phase is phases[0] else None
            axis.bar(middle, share, width=width, bottom=bottom, color=colours[index], label=label)
            bottom += share
        if MACHINE in phase.cpu_cores:
            total = phase.cpu_cores[MACHINE]
            label = "machine, all work" if phase is phases[0] else None
            axis.hlines(total, middle - width / 2, middle + width / 2, colors="black", linewidth=1.5, label=label)
    cpus = os.cpu_count() or 1
    axis.axhline(cpus, color="grey", linestyle=":", linewidth=1)
    axis.set_ylabel(f"CPU cores of {cpus},\nmean over the phase")
    axis.set_ylim(0, cpus * 1.55)  # room for the legend above the machine's cores
    axis.legend(loc="upper left", fontsize=7, ncol=6)


def _colours(count: int) -> list[Any]:
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    return [palette(index % 20) for index in range(count)]


def draw(results: Results, path: Path) -> None:
    phases = results.phases
    if not phases:
        return
    matplotlib.use("Agg")  # no display: draw to a file
    import matplotlib.pyplot as plt  # only once the backend is chosen

    origin = phases[0].started_at
    figure, (latency, throughput, lags, cpu) = plt.subplots(
        4, 1, figsize=(13, 13), sharex=True, gridspec_kw={"height_ratios": [3, 2, 2, 2]}
    )
    colours = plt.get_cmap("tab10")
    for index, phase in enumerate(phases):
        colour = colours(index % 10)
        offset = phase.started_at - origin
        times = [offset + second.at + 0.5 for second in phase.seconds]
        latency.plot(times, [s.p50_ms for s in phase.seconds], color=colour, linewidth=1.2, label=phase.name)
        latency.plot(times, [s.p99_ms for s in phase.seconds], color=colour, linewidth=1.2, linestyle="--")
        throughput.plot(times, [s.committed for s in phase.seconds], color=colour, linewidth=1.4)
        for axis in (latency, throughput, lags, cpu):
            axis.axvspan(offset, offset + phase.run.seconds, color=colour, alpha=0.06)
        if phase.offered_rate is not None:
            throughput.hlines(
                phase.offered_rate, offset, offset + phase.run.seconds, colors=colour, linestyles=":", linewidth=1
            )
    latency.axhline(TARGET_P99_MS, color="grey", linestyle=":", linewidth=1)
    latency.set_yscale("log")
    latency.set_ylabel("201 latency (ms)\nsolid p50, dashed p99")
    latency.text(0.995, 0.02, "grey dotted lines: targets", transform=latency.transAxes, ha="right", fontsize=8)
    handles, labels = latency.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(phases), fontsize=9, frameon=False)
    latency.set_title(
        f"HostDesk benchmark {results.stamp}: generator ceiling {results.ceiling.rate:,.0f}/s, "
        f"PostgreSQL {results.limits.postgres_inserts:,.0f} inserts/s, "
        f"JetStream {results.limits.jetstream_publishes:,.0f} acked publishes/s",
        fontsize=10,
    )
    throughput.axhline(TARGET_OPENS_PER_SECOND, color="grey", linestyle=":", linewidth=1)
    throughput.set_ylabel("committed (201) per second\ndotted: offered rate")
    throughput.set_ylim(bottom=0)
    if results.lag is not None:
        samples = results.lag.samples
        projected = [(s.opened_at - origin, s.projection * 1000) for s in samples if s.projection is not None]
        notified = [(s.opened_at - origin, s.notification * 1000) for s in samples if s.notification is not None]
        if projected:
            lags.scatter(*zip(*projected, strict=True), s=8, label="projection lag (201 to visible in query)")
        if notified:
            lags.scatter(*zip(*notified, strict=True), s=8, marker="x", label="notification lag (reply 201 to mail)")
        unseen = [s.opened_at - origin for s in samples if s.notification is None]
        if unseen:
            lags.scatter(
                unseen,
                [NOTIFICATION_WAIT_SECONDS * 1000] * len(unseen),
                s=14,
                marker="^",
                color="red",
                label=f"no mail within {NOTIFICATION_WAIT_SECONDS:.0f} s",
            )
        lags.axhline(TARGET_PROJECTION_P99_MS, color="grey", linestyle=":", linewidth=1)
        lags.set_yscale("log")
        lags.legend(loc="upper left", fontsize=8)
    lags.set_ylabel("lag (ms), per sampled ticket")
    _draw_cpu(cpu, phases, origin=origin)
    cpu.set_xlabel("seconds since the first phase (gaps: the system working off its backlog between phases)")
    for axis in (latency, throughput, lags, cpu):
        axis.grid(True, which="major", alpha=0.3)
    if all(math.isnan(s.p99_ms) for phase in phases for s in phase.seconds):
        latency.set_yscale("linear")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
