"""The landing sensor and the nightly schedule, evaluated by Dagster's own evaluation contexts on a real
landing zone: one run per change set, `.tmp` files never read, nothing lost that the lake has not accepted.
(tests/test_browser.py lets a running daemon do the same.)"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from ingestion.landing import survey
from orchestration.automation import landing_sensor, nightly_update
from orchestration.jobs import BUILD_KEYS, RANGE_END, RANGE_START
from orchestration.settings import WarehouseSettings
from orchestration.warehouse.landing_changes import changed_files, landing_files
from tests.landing_builder import jsonl, send_logs_csv, write_file

RECEIPT = {"received_at": "2026-11-04T10:00:00Z", "provider": "p", "receipt": "id:m1 stat:DELIVRD err:000"}


@pytest.fixture()
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    write_file(root, "send_logs", "2026-11-03", "s.csv", send_logs_csv([
        "e1,2026-11-03T08:00:00Z,L1,C1,c1,0612345678,,accepted,p,m1,1",
    ]))  # fmt: skip
    return root


def _settings(landing: Path) -> WarehouseSettings:
    return WarehouseSettings(data_dir=str(landing.parent))


def test_landing_files_leave_out_what_producers_are_still_writing(landing: Path) -> None:
    write_file(landing, "dlrs", "2026-11-04", "d.jsonl.tmp", jsonl([RECEIPT]))  # not renamed yet
    write_file(landing, "dlrs", "2026-11-04", ".d.jsonl", jsonl([RECEIPT]))  # a hidden work file
    found = landing_files(survey(landing))
    assert list(found) == ["send_logs/date=2026-11-03/s.csv"]
    size, mtime_ns = found["send_logs/date=2026-11-03/s.csv"]
    assert size == (landing / "send_logs/date=2026-11-03/s.csv").stat().st_size and mtime_ns > 0


def test_a_file_is_changed_when_new_gone_or_of_another_size_or_time() -> None:
    before = {"a": [1, 10], "b": [2, 20], "c": [3, 30]}
    now = {"a": [1, 10], "b": [2, 21], "d": [4, 40]}
    assert changed_files(before, now) == ["b", "c", "d"]
    assert changed_files(now, now) == []


def _tick(instance: dg.DagsterInstance, cursor: str | None, landing: Path) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"settings": _settings(landing)}
    )
    return landing_sensor(context)


def test_the_sensor_asks_for_one_run_per_change_set(landing: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, None, landing)
        [request] = first.run_requests
        assert request.run_key.startswith("landing-")
        assert request.asset_selection == [dg.AssetKey("send_logs"), *BUILD_KEYS]
        assert request.tags == {RANGE_START: "2026-11-03", RANGE_END: "2026-11-03"}
        [add] = first.dynamic_partitions_requests
        assert (add.partitions_def_name, list(add.partition_keys)) == ("arrival_day", ["2026-11-03"])
        # a retried tick asks for the very same run (Dagster launches one run per key)
        assert _tick(instance, None, landing).run_requests[0].run_key == request.run_key

        quiet = _tick(instance, first.cursor, landing)
        assert quiet.run_requests == [] and "no file" in quiet.skip_reason.skip_message
        write_file(landing, "dlrs", "2026-11-04", "d.jsonl.tmp", jsonl([RECEIPT]))  # being written
        assert _tick(instance, first.cursor, landing).run_requests == []

        os.rename(landing / "dlrs/date=2026-11-04/d.jsonl.tmp", landing / "dlrs/date=2026-11-04/d.jsonl")
        second = _tick(instance, first.cursor, landing)
        [later] = second.run_requests
        assert later.run_key != request.run_key
        # the send log was never ingested (no run ran): it is asked for again, never lost
        assert later.asset_selection == [dg.AssetKey("send_logs"), dg.AssetKey("dlrs"), *BUILD_KEYS]
        assert later.tags == {RANGE_START: "2026-11-03", RANGE_END: "2026-11-04"}


def test_the_nightly_schedule_asks_for_what_the_lake_has_not_accepted(landing: Path) -> None:
    with dg.instance_for_test() as instance:
        with dg.build_schedule_context(
            instance=instance, resources={"settings": _settings(landing)}
        ) as context:
            request = nightly_update(context)
        assert request.asset_selection == [dg.AssetKey("send_logs"), *BUILD_KEYS]
        assert instance.get_dynamic_partitions("arrival_day") == ["2026-11-03"]


def test_both_are_on_by_default() -> None:
    assert landing_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert nightly_update.default_status == dg.DefaultScheduleStatus.RUNNING
