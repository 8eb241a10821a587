"""Crashes and concurrent readers, with real processes: a killed run loses nothing, readers never block."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.landing_builder import clean_env
from tests.warehouse import read_tables

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("sms-warehouse"))


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    subprocess.run([CLI, "generate", "--out", str(root), "--contacts", "4000", "--days", "3"], check=True,
                   capture_output=True)  # fmt: skip
    return root


def _env(data: Path, landing: Path) -> dict:
    return clean_env(SMS_DATA_DIR=str(data), SMS_LANDING_DIR=str(landing))


def _run(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, landing: Path) -> dict[str, list]:
    data = tmp_path_factory.mktemp("reference")
    done = _run(_env(data, landing))
    assert done.returncode == 0, done.stderr[-2000:]
    return read_tables(data / "warehouse" / "sms.duckdb")


def _kill_when(env: dict, ready) -> None:
    """Start a run and SIGKILL its whole process tree as soon as `ready()` is true."""
    proc = subprocess.Popen([CLI, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 300
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before the point where it was to be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("moment", ["ingestion", "dbt build"])
def test_killed_run_then_rerun_gives_identical_marts(
    tmp_path: Path, landing: Path, reference, moment: str
) -> None:
    env = _env(tmp_path, landing)
    temp = Path(os.environ.get("TMPDIR", "/tmp"))
    temp_before = set(os.listdir(temp))
    lake, build_db = tmp_path / "lake", tmp_path / "warehouse" / "sms.build.duckdb"
    if moment == "ingestion":
        ready = lambda: any(lake.glob("dlrs/date=*/part-*.parquet"))  # noqa: E731 - mid-way through the feeds
    else:
        ready = lambda: build_db.exists() and build_db.stat().st_size > 0  # noqa: E731 - dbt has begun writing
    _kill_when(env, ready)
    assert not (tmp_path / "warehouse" / "sms.duckdb").exists()  # nothing half-built was published
    done = _run(env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert read_tables(tmp_path / "warehouse" / "sms.duckdb") == reference
    # nothing of either run is left in the system's temporary folder (pytest's own folders aside)
    assert {name for name in set(os.listdir(temp)) - temp_before if not name.startswith("pytest")} == set()
    assert not any((lake / "_scratch").rglob("*"))  # what the killed run spilled went at the rerun's start
    # the killed run no longer holds the warehouse: the rerun marked it failed, and said so
    import dagster as dg

    assert "marked failed: its process (pid" in done.stdout
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        killed, rerun = sorted(instance.get_runs(), key=lambda run: run.status.value)
        assert (killed.status, rerun.status) == (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS)


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    db, stop, log = sys.argv[1], sys.argv[2], open(sys.argv[3], "w")
    import os
    while not os.path.exists(stop):
        try:
            con = duckdb.connect(db, read_only=True)
            rows, bad = con.execute(
                "select sum(launch_list_size), count(*) filter (where not_sent + sent <> launch_list_size) "
                "from marts.mart_campaign_summary").fetchone()
            facts = con.execute("select count(*) from marts.fct_launch_contacts").fetchone()[0]
            con.close()
            log.write(f"ok {rows} {facts} {bad}\\n")
        except Exception as exc:
            log.write(f"error {type(exc).__name__}: {exc}\\n")
        log.flush()
        time.sleep(0.02)
    """
)


def test_reader_keeps_reading_during_a_run(tmp_path: Path, landing: Path, reference) -> None:
    env = _env(tmp_path, landing)
    assert _run(env).returncode == 0
    db, stop, log = tmp_path / "warehouse" / "sms.duckdb", tmp_path / "stop", tmp_path / "reads.log"
    # make the next run do all its work again: forget what was ingested
    for marker in (tmp_path / "lake").glob("*/date=*/_accepted.json"):
        marker.unlink()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), str(stop), str(log)])
    try:
        done = _run(env)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = log.read_text().splitlines()
    errors = [line for line in lines if line.startswith("error")]
    assert len(lines) > 20 and errors == []
    for line in lines:  # every read saw a complete, consistent version
        _, listed, facts, bad = line.split()
        assert listed == facts and bad == "0"


def test_two_runs_started_together_take_turns(tmp_path: Path, landing: Path, reference) -> None:
    """The second run waits for the first (it holds the warehouse) instead of failing on a lock,
    says for which process it waits, and finds nothing left to ingest."""
    import dagster as dg

    from orchestration.instance import runs_holding_the_warehouse

    env = _env(tmp_path, landing)
    first = subprocess.Popen([CLI, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    home = tmp_path / "dagster_home"
    deadline = time.monotonic() + 120
    holding: list = []
    while not holding and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
        if (home / "dagster.yaml").exists():
            with dg.DagsterInstance.from_config(str(home)) as instance:
                holding = runs_holding_the_warehouse(instance)
    assert holding, "the first run never showed as in progress"
    second = _run(env)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out[-2000:] + err[-2000:]
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert f"waiting for sms-warehouse (pid {first.pid}) to finish" in second.stdout
    assert "no landing files changed" in second.stdout
    assert read_tables(tmp_path / "warehouse" / "sms.duckdb") == reference
