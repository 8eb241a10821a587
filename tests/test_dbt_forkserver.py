"""`sms-dbt` through the forkserver behaves as dbt: output, exit codes, environment, cancellation."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration import dbt_forkserver
from orchestration.settings import DBT_PROJECT_DIR

SMS_DBT = str(Path(sys.executable).with_name("sms-dbt"))
DBT = str(Path(sys.executable).with_name("dbt"))


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


def test_dbt_errors_keep_their_exit_code_and_message(server: str, tmp_path: Path) -> None:
    result = subprocess.run([SMS_DBT, "no-such-command"], capture_output=True, text=True, env=_env(tmp_path))
    assert result.returncode == 2
    assert "Usage: dbt" in result.stderr and "No such command 'no-such-command'" in result.stderr


def test_the_environment_and_folder_are_the_clients(server: str, tmp_path: Path) -> None:
    """dbt reads the build database from SMS_BUILD_DB at invocation, in the client's folder."""
    env = _env(tmp_path)
    result = _run(SMS_DBT, ["show", "--inline", "select 42 as answer", "--quiet", "--output", "json"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"answer": 42' in result.stdout
    assert (tmp_path / "build.duckdb").exists()


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
         "import os, sys; from orchestration import dbt_forkserver\n"
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


def test_a_new_warehouse_location_is_parsed_ahead_of_its_build(tmp_path: Path, monkeypatch) -> None:
    """dbt parses everything again when the profile's paths change; `run` does that while it ingests."""
    from dagster_dbt import DbtProject

    from orchestration.dbt_assets import PARSE_STATE, PARSED_FOR, parse_ahead

    project_dir = tmp_path / "dbt_project"  # a copy: the repository's parse state is left alone
    shutil.copytree(DBT_PROJECT_DIR, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    monkeypatch.setenv("SMS_LAKE_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("SMS_BUILD_DB", str(tmp_path / "here.duckdb"))
    parsing = parse_ahead(project)
    assert parsing is not None
    parsing.join()
    target = project_dir / "target"
    assert (target / PARSED_FOR).read_text() == f"{tmp_path / 'here.duckdb'}\n{tmp_path / 'lake'}\n"
    assert parse_ahead(project) is None  # the kept state fits these paths: nothing to do

    def parses_everything(build_db: Path) -> bool:
        """What a build seeded with the kept state (as dagster-dbt seeds it) says about it."""
        run_target = tmp_path / f"run-{build_db.stem}"
        run_target.mkdir()
        shutil.copy(target / PARSE_STATE, run_target / PARSE_STATE)
        done = subprocess.run(
            [DBT, "ls", "--profiles-dir", ".", "--target-path", str(run_target), "--log-path", str(run_target)],
            cwd=project_dir, env=os.environ | {"SMS_BUILD_DB": str(build_db)},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return "Unable to do partial parsing" in done.stdout

    assert not parses_everything(tmp_path / "here.duckdb")
    assert parses_everything(tmp_path / "elsewhere.duckdb")  # what the build would have done without it
