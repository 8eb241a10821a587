"""The warehouse's Dagster instance: where it lives, its settings, and how runs take turns on it.

Every run is recorded in the instance in `DAGSTER_HOME` (default `<data folder>/dagster_home`),
the one `sms-warehouse ui` opens. Every step that writes the lake, the build database
or the published file belongs to the `warehouse` pool, and the instance lets one run
hold that pool at a time: runs launched from the UI, the sensor, the schedule or a
backfill wait in Dagster's queue while another is in progress (the CLI's in-process
runs included), and `sms-warehouse run` waits for them before it starts.

A run whose process was killed stays "started" in the instance and would hold the
pool for ever: `release_dead_runs` marks such a run failed once its process (which
every run names in its first engine event) is gone. The CLI does it before waiting,
the landing sensor at every tick; Dagster's run monitoring handles runs that die
before they start.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ingestion.atomic import write_text_atomically

WAREHOUSE_POOL = "warehouse"

INSTANCE_CONFIG = """\
# The Dagster instance of the SMS warehouse (written by sms-warehouse when missing).
telemetry:
  enabled: false
concurrency:
  pools:
    # one run at a time may hold a pool: every step that writes the warehouse is in the
    # `warehouse` pool, so a second run waits in the queue instead of meeting a lock
    granularity: run
    default_limit: 1
run_monitoring:
  # a run whose worker never started is marked failed instead of holding the queue
  enabled: true
  start_timeout_seconds: 300
"""
# what earlier versions wrote, replaced by the settings above
_OLDER_CONFIGS = ("telemetry:\n  enabled: false\n",)


def home_folder(data_dir: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The instance's folder: `DAGSTER_HOME`, default `<data_dir>/dagster_home` (not made here)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("DAGSTER_HOME") or data_dir / "dagster_home").expanduser().resolve()


def dagster_home(data_dir: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The instance's folder (`home_folder`), with its settings written when missing.

    With the settings, the `warehouse` pool's limit is set (Dagster's documented
    `dagster instance concurrency set`): Dagster's queue gives a pool the default limit
    only once it has seen it in a queued run, after deciding on the runs queued with it,
    so the first two runs queued together would otherwise both start.
    """
    environ = os.environ if environ is None else environ
    home = home_folder(data_dir, environ)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() in _OLDER_CONFIGS:
        write_text_atomically(INSTANCE_CONFIG, config)  # another process may be reading it
        dagster = Path(sys.executable).with_name("dagster")
        subprocess.run(
            [str(dagster), "instance", "concurrency", "set", WAREHOUSE_POOL, "1"],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**environ, "DAGSTER_HOME": str(home)},
        )
    return home


def runs_holding_the_warehouse(instance) -> list:  # noqa: ANN001 - a DagsterInstance; its runs
    """The runs in progress (starting, started, cancelling) that hold the warehouse pool."""
    from dagster import DagsterRunStatus, RunsFilter

    active = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
    return [
        run
        for run in instance.get_runs(RunsFilter(statuses=active))
        if run.run_op_concurrency and WAREHOUSE_POOL in (run.run_op_concurrency.all_pools or ())
    ]


def run_process(instance, run) -> int | None:  # noqa: ANN001 - a DagsterInstance, a DagsterRun
    """The process executing an in-process run: the pid of its "Executing steps in process" event."""
    from dagster import DagsterEventType

    for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data if entry.dagster_event else None
        pid = data.metadata.get("pid") if data is not None else None
        if pid is not None:
            return int(pid.value)
    return None


def process_alive(pid: int) -> bool:
    """Whether a process of this machine runs (a zombie waiting to be reaped has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's: it exists
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def release_dead_runs(instance, say: Callable[[str], None]) -> list:  # noqa: ANN001 - a DagsterInstance
    """Mark failed the runs holding the warehouse whose process is gone (killed, the machine
    restarted); returns them."""
    released = []
    for run in runs_holding_the_warehouse(instance):
        pid = run_process(instance, run)
        if pid is not None and not process_alive(pid):
            reason = f"its process (pid {pid}) is gone: it stopped without finishing, and no longer holds the warehouse"
            instance.report_run_failed(run, message=f"Run {run.run_id[:8]}: {reason}")
            say(f"run {run.run_id[:8]} ({run.job_name}) marked failed: {reason}")
            released.append(run)
    return released


def wait_for_turn(
    instance,  # noqa: ANN001 - a DagsterInstance
    say: Callable[[str], None],
    poll_s: float = 2.0,
) -> None:
    """Wait while another run holds the warehouse (launched from the UI, the sensor, the schedule,
    or another `sms-warehouse run`), saying once which runs it waits for; a run whose process is
    gone is released first."""
    said = False
    while True:
        release_dead_runs(instance, say)
        holding = runs_holding_the_warehouse(instance)
        if not holding:
            return
        if not said:
            ids = ", ".join(f"{run.run_id[:8]} ({run.job_name})" for run in holding)
            say(f"waiting for run {ids} to finish: one run writes the warehouse at a time")
            said = True
        time.sleep(poll_s)


@contextlib.contextmanager
def command_turn(warehouse_dir: Path, say: Callable[[str], None]) -> Iterator[None]:
    """Hold the warehouse for one `sms-warehouse` command from its plan to its end; another command
    on the same warehouse waits here, saying so, whatever the timing (runs it starts within the
    same second included). Runs launched by Dagster wait in its queue instead (`wait_for_turn`
    covers those).

    An advisory lock on `.sms-warehouse.lock` beside the published file, released when the
    process ends, even killed; the file names the process holding it.
    """
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    path = warehouse_dir / ".sms-warehouse.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            say(f"waiting for {holder} to finish: one command writes the warehouse at a time")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"sms-warehouse (pid {os.getpid()})\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
