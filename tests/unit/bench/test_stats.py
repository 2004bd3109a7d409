"""Figures from recorded requests: the recorder's lines, percentiles, one-second buckets, limits and flags."""

from __future__ import annotations

import math

import pytest
from hostdesk_devtools.bench.stats import (
    Limit,
    Sample,
    judge,
    parse_records,
    per_second,
    percentile,
    summarize,
)


def test_the_recorders_lines_become_samples_in_seconds() -> None:
    text = "2918364812 10993 201\n\n2918375826 3854 503\n"

    samples = parse_records(text)

    assert samples == [Sample(2918.364812, 0.010993, 201), Sample(2918.375826, 0.003854, 503)]


def test_a_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]

    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([7.0], 99) == 7.0


def test_a_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


def test_only_committed_requests_count_towards_the_rate_and_the_latency() -> None:
    samples = [Sample(0.0, 0.010, 201), Sample(0.1, 0.020, 201), Sample(0.2, 5.0, 202), Sample(0.3, 0.001, 429)]

    summary = summarize(samples, seconds=2.0, extra_failures=1)

    assert summary.rate == 1.0
    assert summary.requests == 5
    assert summary.others == {0: 1, 202: 1, 429: 1}
    assert summary.latency_ms.p99 == pytest.approx(20.0)


def test_seconds_are_bucketed_by_finishing_time_keeping_empty_ones_and_leaving_out_a_partial_last() -> None:
    samples = [Sample(100.7, 0.5, 201), Sample(100.9, 0.05, 201), Sample(101.1, 0.2, 503), Sample(102.1, 0.1, 201)]

    seconds = per_second(samples, start=100.0, seconds=2.5)

    assert [second.committed for second in seconds] == [1, 1]
    assert seconds[0].p50_ms == pytest.approx(50.0)
    assert seconds[1].p99_ms == pytest.approx(500.0)


def test_a_second_without_a_commit_is_kept_with_no_latency() -> None:
    seconds = per_second([Sample(100.0, 1.5, 201)], start=100.0, seconds=2.0)

    assert [second.committed for second in seconds] == [0, 1]
    assert math.isnan(seconds[0].p50_ms)


def test_a_figure_near_the_generators_ceiling_is_flagged() -> None:
    verdict = judge(850.0, limit=Limit("HTTP", 1000.0), ceiling=1000.0)

    assert verdict.generator_bound
    assert verdict.ratio == pytest.approx(0.85)


def test_a_figure_well_below_the_ceiling_is_not_flagged() -> None:
    verdict = judge(500.0, limit=Limit("PostgreSQL", 10_000.0), ceiling=4_000.0)

    assert not verdict.generator_bound
    assert verdict.ratio == pytest.approx(0.05)
    assert verdict.notes == []


def test_a_fixed_rate_the_system_cannot_keep_is_noted() -> None:
    verdict = judge(400.0, limit=None, ceiling=4_000.0, offered=500.0)

    assert verdict.ratio is None
    assert verdict.notes == ["below the offered 500/s: the system is saturated"]
