"""Where the CPU went: cores per process between two snapshots."""

from __future__ import annotations

import pytest
from hostdesk_devtools.bench.cpu import CpuSnapshot, cores


def test_cores_are_cpu_seconds_over_wall_seconds_with_the_databases_backends_summed() -> None:
    before = CpuSnapshot(at=10.0, seconds={"tickets": 5.0, "postgres:101": 1.0, "machine": 100.0})
    after = CpuSnapshot(at=12.0, seconds={"tickets": 7.0, "postgres:101": 1.5, "postgres:102": 0.5, "machine": 103.8})

    used = cores(before, after)

    assert used == pytest.approx({"tickets": 1.0, "postgres": 0.5, "machine": 1.9})


def test_a_process_first_seen_after_the_start_is_left_out() -> None:
    before = CpuSnapshot(at=0.0, seconds={})
    after = CpuSnapshot(at=1.0, seconds={"query (rebuild)": 3.0})

    assert cores(before, after) == {}
