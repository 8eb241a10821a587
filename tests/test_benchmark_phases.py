"""The benchmark's split of one run's seconds, from a hand-written event timeline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from run_benchmark import phases  # noqa: E402

pytestmark = pytest.mark.unit


def test_a_run_is_split_into_its_start_its_plan_its_steps_and_its_end() -> None:
    launched = 100.0  # the process starts; its first event comes 3 s later
    timeline = [
        (103.0, "ASSET_MATERIALIZATION_PLANNED", "warehouse_models"),
        (104.0, "ASSET_CHECK_EVALUATION_PLANNED", "mart_checks"),
        (104.5, "PIPELINE_START", None),
        (104.6, "STEP_START", "landing_feeds"),
        (105.6, "ASSET_MATERIALIZATION", "landing_feeds"),
        (105.8, "STEP_SUCCESS", "landing_feeds"),
        (105.9, "STEP_START", "warehouse_models"),
        (111.9, "STEP_FAILURE", "warehouse_models"),  # a failed step counts its seconds too
        (112.0, "PIPELINE_FAILURE", None),
    ]
    spent = phases(timeline, launched, ended=112.5)
    assert spent == pytest.approx(
        {"start": 3.0, "planned": 1.5, "landing_feeds": 1.2, "warehouse_models": 6.0, "end": 0.5}
    )
    assert list(spent) == ["start", "planned", "landing_feeds", "warehouse_models", "end"]  # in run order
