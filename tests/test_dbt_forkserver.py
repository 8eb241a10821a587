"""`sms-dbt` through the forkserver behaves as dbt: output, exit codes, environment, cancellation;
and the dbt resource overrides only what dagster-dbt still has."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.dbt_cli import forkserver as dbt_forkserver
from orchestration.dbt_cli.environment import dbt_command
from orchestration.paths import DBT_PROJECT_DIR

SMS_DBT = str(Path(sys.executable).with_name("sms-dbt"))
DBT = str(dbt_command())


@pytest.fixture()
def server():
    with dbt_forkserver.running():
        yield os.environ[dbt_forkserver.ENV]


def _env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "SMS_LAKE_DIR": str(tmp_path / "lake"),
        "SMS_BUILD_DB": str(tmp_path / "build.duckdb"),
        "DBT_USE_COLORS": "false",
    }


def _run(exe: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [exe, *args, "--profiles-dir", "."], cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True
    )


def test_a_forked_dbt_lists_what_plain_dbt_lists(server: str, tmp_path: Path) -> None:
    env = _env(tmp_path)
    forked = _run(SMS_DBT, ["ls", "--select", "marts", "--quiet"], env)
    plain = _run(DBT, ["ls", "--select", "marts", "--quiet"], env)
    assert forked.returncode == plain.returncode == 0, forked.stdout + forked.stderr
    assert forked.stdout == plain.stdout
    assert "sms_warehouse.marts.fct_launch_contacts" in forked.stdout


def test_dbt_reports_no_usage_to_dbt_labs(server: str, tmp_path: Path) -> None:
    """The project turns dbt's anonymous usage events off (dbt_project.yml `flags`): dbt would
    otherwise build ~30 of them per build and post them to dbt Labs at its end."""
    result = _run(SMS_DBT, ["ls", "--select", "marts", "--log-level", "debug"], _env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Running with dbt=" in result.stdout  # the debug log is there
    assert "Sending event" not in result.stdout


def test_dbt_compresses_the_build_database_as_duckdb_chooses(server: str, tmp_path: Path) -> None:
    """No compression method is turned off on dbt's connection: each build is a fresh process
    that reads the big tables of earlier builds, and their compressed strings (dictionary and
    FSST) are a third of the memory to load (see profiles.yml)."""
    sql = "select '[' || current_setting('disabled_compression_methods') || ']' as disabled"
    result = _run(SMS_DBT, ["show", "--inline", sql, "--quiet"], _env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "| [] " in result.stdout, result.stdout  # the setting, bracketed: empty


def test_dbt_errors_keep_their_exit_code_and_message(server: str, tmp_path: Path) -> None:
    result = subprocess.run([SMS_DBT, "no-such-command"], capture_output=True, text=True, env=_env(tmp_path))
    assert result.returncode == 2
    assert "No such command 'no-such-command'" in result.stderr


def test_a_failing_node_exits_1_as_dbt_does(server: str, tmp_path: Path) -> None:
    """dbt's exit codes from a `dbtRunner` result: 0 done, 1 a node failed, 2 dbt itself failed."""
    no_lake = _env(tmp_path) | {"SMS_LAKE_DIR": str(tmp_path / "no-lake")}  # the view has nothing to read
    failing = _run(SMS_DBT, ["run", "--select", "stg_dlrs"], no_lake)
    plain = _run(DBT, ["run", "--select", "stg_dlrs"], no_lake)
    assert failing.returncode == plain.returncode == 1, failing.stdout + failing.stderr
    assert "ERROR creating sql view model staging.stg_dlrs" in failing.stdout
    erring = _run(SMS_DBT, ["show", "--inline", "select no_such_column", "--quiet"], _env(tmp_path))
    assert erring.returncode == 2 and "no_such_column" in erring.stdout
    assert [dbt_forkserver.exit_code(*r) for r in ((True, None), (False, None), (False, ValueError()))] == [
        0,
        1,
        2,
    ]


def test_the_environment_and_folder_are_the_clients(server: str, tmp_path: Path) -> None:
    """dbt reads the build database from SMS_BUILD_DB at invocation, in the client's folder."""
    env = _env(tmp_path)
    result = _run(SMS_DBT, ["show", "--inline", "select 42 as answer", "--quiet", "--output", "json"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"answer": 42' in result.stdout
    assert (tmp_path / "build.duckdb").exists()


def test_a_forked_dbt_leaves_no_semaphores_behind(server: str, tmp_path: Path) -> None:
    """The forked child exits the normal way after reporting, so the named semaphores dbt's adapter
    made are unlinked and the resource tracker has nothing to warn about on the run's stderr."""
    result = _run(SMS_DBT, ["show", "--inline", "select 1 as one", "--quiet"], _env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "leaked semaphore" not in result.stderr


def test_a_cancelled_client_stops_its_dbt(server: str, tmp_path: Path) -> None:
    slow = "select count(*) from range(100000000000) a"  # minutes of work
    client = subprocess.Popen(
        [SMS_DBT, "show", "--inline", slow, "--profiles-dir", "."],
        cwd=DBT_PROJECT_DIR,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(8)  # connected, forked, dbt running the query
    assert client.poll() is None
    client.send_signal(signal.SIGINT)  # the client only relays it: it exits when dbt has stopped
    assert client.wait(timeout=60) != 0


def test_without_a_server_sms_dbt_is_plain_dbt(tmp_path: Path) -> None:
    env = {k: v for k, v in _env(tmp_path).items() if k != dbt_forkserver.ENV}
    result = subprocess.run([SMS_DBT, "--version"], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and "installed: 1.11" in result.stdout


def test_the_server_ends_when_the_run_that_started_it_is_killed(tmp_path: Path) -> None:
    """A run SIGKILLed mid-way must not leave a dbt server behind."""
    pid_file = tmp_path / "server.pid"
    subprocess.run(
        [sys.executable, "-c",
         "import os, sys; from orchestration.dbt_cli import forkserver as dbt_forkserver\n"
         "with dbt_forkserver.running() as server:\n"
         f"    open({str(pid_file)!r}, 'w').write(str(server.pid)); os._exit(0)"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60,
    )  # fmt: skip
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    """Running or sleeping; a zombie waiting for init to reap it has ended."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _project_copy(tmp_path: Path) -> Path:
    """The dbt project copied without its target folder: the repository's parse state is left alone."""
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
    return project_dir


def _dbt_ls_log(project_dir: Path, run_target: Path, data: Path, lake: str = "lake") -> str:
    """dbt's debug log of `ls` in `run_target` with the build database and lake in `data`; the
    project's `target/partial_parse.msgpack` is copied in first unless `run_target` holds a parse
    state already (as dagster-dbt seeds a build's folder)."""
    kept = project_dir / "target" / "partial_parse.msgpack"
    run_target.mkdir(parents=True, exist_ok=True)
    if kept.exists() and not (run_target / "partial_parse.msgpack").exists():
        shutil.copy(kept, run_target)
    env = os.environ | {"SMS_BUILD_DB": str(data / "sms.build.duckdb"), "SMS_LAKE_DIR": str(data / lake)}
    subprocess.run(
        [DBT, "ls", "--profiles-dir", ".", "--target-path", str(run_target), "--log-path", str(run_target),
         "--log-level-file", "debug"],
        cwd=project_dir, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return (run_target / "dbt.log").read_text()


def test_the_same_data_folder_does_not_make_dbt_parse_again(tmp_path: Path) -> None:
    """dbt parses everything again when a connection setting (the build database's path) changes;
    a warehouse keeps its data folder, so its builds reuse the kept parse state.

    The lake's folder reaches the models at run time (`getvariable('sms_lake')`), so
    it is not part of the parse at all.
    """
    project_dir = _project_copy(tmp_path)

    def parse_log(folder: str, lake: str = "lake") -> str:
        run_target = tmp_path / f"run-{len(list(tmp_path.iterdir()))}"
        log = _dbt_ls_log(project_dir, run_target, tmp_path / folder, lake)
        if not (project_dir / "target").exists():
            shutil.copytree(run_target, project_dir / "target")
        return log

    parse_log("data")  # the copy's first parse: the state every later command starts from
    assert "no changes found, skipping parsing" in parse_log("data", lake="another-lake")
    assert "Unable to do partial parsing because profile has changed" in parse_log("elsewhere")


def test_each_build_database_keeps_its_own_parse_state(tmp_path: Path) -> None:
    """Builds into two data folders, in turns: each starts from the parse state of the last build
    into its own database, not from the other's (whose profile differs: a whole parse)."""
    from dagster_dbt import DbtProject

    from orchestration.assets.models import build_target, keep_partial_parse, parse_state_of

    project_dir = _project_copy(tmp_path)
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)

    def build_log(folder: str) -> str:
        """As a build into `tmp_path/folder`'s database: its own target folder, its state kept after."""
        build_db = tmp_path / folder / "sms.build.duckdb"
        run_target = build_target(f"warehouse_models-{folder}", build_db, project)
        log = _dbt_ls_log(project_dir, run_target, tmp_path / folder)
        keep_partial_parse(run_target, build_db, project)
        return log

    whole = "Unable to do partial parsing"
    assert whole in build_log("a")  # nothing parsed yet
    assert "profile has changed" in build_log("b")  # started from a's state: another build database
    assert parse_state_of(tmp_path / "a" / "sms.build.duckdb", project).exists()
    again = build_log("a")
    assert whole not in again and "no changes found, skipping parsing" in again
    assert whole not in build_log("b")


def test_the_parse_states_of_the_ten_build_databases_built_last_are_kept(tmp_path: Path) -> None:
    """A state per build database, tests' and benchmarks' folders included: the oldest go."""
    from dagster_dbt import DbtProject

    from orchestration.assets.models import PARSE_STATES_KEPT, keep_partial_parse, parse_state_of

    project = DbtProject(project_dir=_project_copy(tmp_path), profiles_dir=tmp_path / "dbt_project")
    older = [parse_state_of(tmp_path / f"old-{age}" / "sms.build.duckdb", project) for age in range(12)]
    for age, state in enumerate(older):  # old-0 is the newest
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_bytes(b"")
        os.utime(state, (1_000_000 - age, 1_000_000 - age))
    run_target = tmp_path / "warehouse_models-now"
    run_target.mkdir()
    (run_target / "partial_parse.msgpack").write_bytes(b"this build's state")
    keep_partial_parse(run_target, tmp_path / "now" / "sms.build.duckdb", project)

    kept = sorted(older[0].parent.iterdir())
    assert len(kept) == PARSE_STATES_KEPT
    assert (
        parse_state_of(tmp_path / "now" / "sms.build.duckdb", project).read_bytes() == b"this build's state"
    )
    assert set(kept) == {
        parse_state_of(tmp_path / "now" / "sms.build.duckdb", project),
        *older[: PARSE_STATES_KEPT - 1],
    }
    assert (project.project_dir / "target" / "partial_parse.msgpack").read_bytes() == b"this build's state"


def test_the_dbt_resource_overrides_only_what_dagster_dbt_still_calls() -> None:
    """The two start-up costs `DbtCli` skips are methods of dagster-dbt with no public switch: if
    dagster-dbt renames or stops calling either, this fails instead of the override doing nothing."""
    import inspect
    from functools import cached_property

    from dagster_dbt import DbtCliResource

    from orchestration.dbt_cli.resource import SMS_DBT, DbtCli

    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version"), cached_property)
    assert list(inspect.signature(DbtCliResource._initialize_dbt_core_adapter).parameters) == ["self", "args"]
    cli_source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in cli_source and "self._initialize_dbt_core_adapter(args)" in cli_source
    resource = DbtCli(project_dir=str(DBT_PROJECT_DIR), dbt_executable=SMS_DBT, forkserver=False)
    assert str(resource._cli_version).startswith("1.11.")  # from the package metadata, no subprocess
    assert resource._initialize_dbt_core_adapter(["build"]) is None
