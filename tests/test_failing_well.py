"""Failing well: one bad file or folder never stops the warehouse, every failure says its cause and
the fix, damage is noticed and repaired, runs started together take turns, a full disk fails cleanly.

Each case runs the real command line on a small generated landing zone and compares the
published marts with a cold run of the same landing files: "exact" means equal to it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion.ingest import ingest_file
from ingestion.landing import survey
from tests.landing_builder import clean_env, jsonl, send_logs_csv, write_file
from tests.warehouse import read_tables

CLI = str(Path(sys.executable).with_name("sms-warehouse"))
DAY = "2026-11-03"


def _env(data: Path, landing: Path, **more: str) -> dict[str, str]:
    return clean_env(SMS_DATA_DIR=str(data), SMS_LANDING_DIR=str(landing), **more)


def _run(env: dict, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "run", *flags], env=env, capture_output=True, text=True, timeout=900)


def _ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    subprocess.run([CLI, "generate", "--out", str(root), "--contacts", "1500", "--days", "2"], check=True,
                   capture_output=True, env=clean_env())  # fmt: skip
    return root


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory, landing: Path) -> Path:
    """The data folder of a cold run of the clean landing zone."""
    data = tmp_path_factory.mktemp("reference")
    _ok(_run(_env(data, landing)))
    return data


@pytest.fixture(scope="module")
def reference(reference_run: Path) -> dict[str, list]:
    """The marts of a cold run of the clean landing zone."""
    return read_tables(reference_run / "warehouse" / "sms.duckdb")


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _copy(landing: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "landing"
    shutil.copytree(landing, copy)
    return copy


# --- one file never stops the others --------------------------------------------------------------


@pytest.mark.unit
def test_a_bare_carriage_return_quarantines_its_line_and_the_file_goes_on(tmp_path: Path) -> None:
    path = write_file(tmp_path, "send_logs", DAY, "cr.csv", send_logs_csv([
        "e1,2026-11-03T08:00:00Z,L1,C1,c1,0612345678,,accepted,p,m1,1",
        "e2,2026-11-03T08:00:00Z,L1,C1,c2,06\r12,,accepted,p,m2,1",  # a CR alone in an unquoted field
        'e3,2026-11-03T08:00:00Z,L1,C1,c3,"06\r12",,accepted,p,m3,1',  # inside quotes: a value
        'e4,2026-11-03T08:00:00Z,L1,C1,c4,"0612,,accepted,p,m4,1',  # a quote never closed
    ]))  # fmt: skip
    result = ingest_file(path, "send_logs", DAY)
    assert result.rows["event_id"].to_list() == ["e1", "e3"]
    assert result.quarantine.select("line", "reason").rows() == [
        (3, "not a CSV line (a carriage return inside an unquoted field)"),
        (5, "not a CSV line (unexpected end of data)"),
    ]
    assert result.accounting.select("rows_read", "rows_kept", "quarantined").row(0) == (4, 2, 2)


@pytest.mark.unit
def test_a_file_that_cannot_be_read_is_quarantined_whole_with_its_error(tmp_path: Path) -> None:
    """A file gone between the listing and the reading (or any error of the OS): the file is
    quarantined, named with its error, and the call returns instead of raising."""
    gone = tmp_path / "dlrs" / f"date={DAY}" / "gone.jsonl"
    result = ingest_file(gone, "dlrs", DAY)
    assert result.rows.height == 0
    [(file, line, reason)] = result.quarantine.select("file", "line", "reason").rows()
    assert (file, line) == (f"dlrs/date={DAY}/gone.jsonl", None)
    assert reason.startswith("could not be read (FileNotFoundError")
    assert result.file_error == reason and result.accounting["rows_read"][0] == 0


@pytest.mark.unit
def test_integral_numbers_are_integers_and_fractions_are_quarantined(tmp_path: Path) -> None:
    """`1.0` in an integer column is 1 (a spreadsheet's export, a Parquet double); `1.5` is not."""
    frame = pl.DataFrame({
        "event_id": ["e1", "e2", "e3"], "logged_at": ["2026-11-03T08:00:00Z"] * 3, "launch_id": ["L1"] * 3,
        "campaign_id": ["C1"] * 3, "contact_id": ["c1", "c2", "c3"], "phone": ["0612345678"] * 3,
        "filter_reason": [None] * 3, "submit_result": ["accepted"] * 3, "provider": ["p"] * 3,
        "provider_message_id": ["m1", "m2", "m3"], "segments": [1.0, 1.5, 2.0],
    }, schema_overrides={"filter_reason": pl.String})  # fmt: skip
    folder = tmp_path / "send_logs" / f"date={DAY}"
    folder.mkdir(parents=True)
    frame.write_parquet(folder / "doubles.parquet")
    result = ingest_file(folder / "doubles.parquet", "send_logs", DAY)
    assert result.rows.select("event_id", "segments").rows() == [("e1", 1), ("e3", 2)]
    assert result.quarantine.select("line", "reason").rows() == [(2, "segments '1.5' is not an integer")]


def test_a_broken_file_is_named_and_every_other_file_published(
    tmp_path: Path, landing: Path, reference
) -> None:
    """A bare CR in one send log, bytes that are not UTF-8 in a receipt file, a damaged gzip:
    the run goes on, names each file, publishes the good rows; the next run reads none of them
    again until one changes."""
    copy = _copy(landing, tmp_path)
    write_file(copy, "send_logs", DAY, "zz-cr.csv", send_logs_csv([
        "e-cr,2026-11-03T08:00:00Z,ln-9999,C9,c-cr,06\r12,,accepted,p,m-cr,1",
    ]))  # fmt: skip
    write_file(copy, "dlrs", DAY, "zz-latin1.jsonl", '{"provider": "p", "receipt": "é"}\n'.encode("latin-1"))
    (copy / "unsubscribes" / f"date={DAY}" / "zz-cut.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00broken")
    env = _env(tmp_path, copy)
    out = _ok(_run(env))
    assert f"send_logs/date={DAY}/zz-cr.csv: 1 row(s) quarantined, the first (line 2): not a CSV line" in out
    assert f"dlrs/date={DAY}/zz-latin1.jsonl: 1 row(s) quarantined, the first (line 1): not UTF-8" in out
    assert f"unsubscribes/date={DAY}/zz-cut.jsonl.gz: file error: truncated gzip stream" in out
    assert read_tables(tmp_path / "warehouse" / "sms.duckdb") == reference  # none of them had a good row
    again = _ok(_run(env))
    assert "no landing files changed" in again and "zz-" not in again


# --- the landing tree is checked, not trusted -----------------------------------------------------


@pytest.mark.unit
def test_the_survey_reads_only_the_feeds_files_and_says_why_of_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    write_file(root, "dlrs", DAY, "ok.jsonl", "")
    write_file(root, "dlrs", "2026-13-45", "a.jsonl", "")
    write_file(root, "dlrs", "yesterday", "a.jsonl", "")
    (root / "clicks").mkdir()
    (root / "Dlrs").mkdir()
    (root / "dlrs" / f"date={DAY}" / "folder.jsonl").mkdir()
    os.mkfifo(root / "dlrs" / f"date={DAY}" / "pipe.jsonl")
    (root / "dlrs" / f"date={DAY}" / "passwd.jsonl").symlink_to("/etc/passwd")
    (root / "dlrs" / f"date={DAY}" / "inside.jsonl").symlink_to(root / "dlrs" / f"date={DAY}" / "ok.jsonl")
    write_file(root, "dlrs", DAY, "late.jsonl.tmp", "")  # still being written: neither read nor reported
    found = survey(root)
    assert [f.name for f in found.files_of("dlrs", DAY)] == ["inside.jsonl", "ok.jsonl"]
    assert found.days("dlrs") == [DAY]
    reasons = dict(found.problems)
    assert set(reasons) == {
        "Dlrs", "clicks", "dlrs/date=2026-13-45", "dlrs/date=yesterday", f"dlrs/date={DAY}/folder.jsonl",
        f"dlrs/date={DAY}/pipe.jsonl", f"dlrs/date={DAY}/passwd.jsonl",
    }  # fmt: skip
    assert "no feed" in reasons["Dlrs"] and "no feed" in reasons["clicks"]
    assert "real date" in reasons["dlrs/date=2026-13-45"]
    assert reasons[f"dlrs/date={DAY}/pipe.jsonl"].startswith("a FIFO")
    assert reasons[f"dlrs/date={DAY}/folder.jsonl"].startswith("a folder")
    assert (
        reasons[f"dlrs/date={DAY}/passwd.jsonl"]
        == "a link to /etc/passwd, outside the landing zone: not followed"
    )


def test_odd_entries_are_reported_never_partitions_and_earlier_mistakes_are_removed(
    tmp_path: Path, landing: Path, reference
) -> None:
    import dagster as dg

    copy = _copy(landing, tmp_path)
    write_file(copy, "dlrs", "yesterday", "a.jsonl", "")
    write_file(copy, "dlrs", "2026-13-45", "a.jsonl", "")
    (copy / "clicks").mkdir()
    os.mkfifo(copy / "dlrs" / f"date={DAY}" / "pipe.jsonl")
    (copy / "dlrs" / f"date={DAY}" / "passwd.jsonl").symlink_to("/etc/passwd")
    env = _env(tmp_path, copy)
    home = tmp_path / "dagster_home"
    from orchestration.instance import dagster_home

    with dg.DagsterInstance.from_config(str(dagster_home(tmp_path, env))) as instance:  # an earlier version's
        instance.add_dynamic_partitions("arrival_day", ["yesterday", "2026-13-45"])
    out = _ok(_run(env))
    assert "5 entries of the landing zone not read:" in out
    assert "  clicks: a folder that is no feed" in out and "dlrs/date=yesterday: not an arrival-day" in out
    assert f"dlrs/date={DAY}/passwd.jsonl: a link to /etc/passwd, outside the landing zone" in out
    assert "warning: landing_zone landing_layout:" in out
    assert read_tables(tmp_path / "warehouse" / "sms.duckdb") == reference
    with dg.DagsterInstance.from_config(str(home)) as instance:
        days = instance.get_dynamic_partitions("arrival_day")
    assert "yesterday" not in days and "2026-13-45" not in days and DAY in days
    quarantined = duckdb.sql(
        f"select count(*) from read_parquet('{tmp_path}/lake/_quarantine/*/*/*.parquet') where raw like '%root:%'"
    ).fetchall()
    assert quarantined == [(0,)]  # /etc/passwd was never read


# --- the cause, and what to do, in one line -------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ({"SMS_DEFAULT_REGION": "XX"}, "SMS_DEFAULT_REGION='XX' is not a region libphonenumber knows"),
        ({"SMS_DUCKDB_MEMORY_LIMIT": "banana"}, "SMS_DUCKDB_MEMORY_LIMIT='banana' is not a memory size"),
        ({"SMS_DBT_THREADS": "0"}, "SMS_DBT_THREADS=0 must be a whole number of at least 1"),
        ({"SMS_DBT_THREADS": "two"}, "SMS_DBT_THREADS='two' is not a whole number"),
        ({"SMS_INGEST_MEMORY_LIMIT": "lots"}, "SMS_INGEST_MEMORY_LIMIT='lots' is not a size"),
        (
            {"DAGSTER_HOME": "/etc/passwd/home"},
            "DAGSTER_HOME=/etc/passwd/home cannot hold the Dagster instance",
        ),
    ],
    ids=["region", "duckdb-memory", "threads-zero", "threads-word", "ingest-memory", "dagster-home"],
)
@pytest.mark.unit
def test_a_wrong_setting_is_one_line_naming_it_before_any_work(
    tmp_path: Path, setting: dict[str, str], said: str
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    done = subprocess.run(
        [CLI, "run"], env=_env(tmp_path, landing, **setting), capture_output=True, text=True
    )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("sms-warehouse: error: ") and said in line, line
    assert not (tmp_path / "lake").exists() and not (tmp_path / "dagster_home" / "storage").exists()


def test_a_failed_step_prints_its_underlying_error_and_the_fix(tmp_path: Path, landing: Path) -> None:
    """A lake part damaged in place (its size and time kept): the build fails on it, and the line
    names the file, DuckDB's error and the fix; `--full-refresh` reads every part and repairs it."""
    env = _env(tmp_path, landing)
    _ok(_run(env))
    part = next((tmp_path / "lake" / "dlrs").glob("date=*/part-*.parquet"))
    stat = part.stat()
    part.write_bytes(b"\0" * stat.st_size)  # garbage, same size
    os.utime(part, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same time: only reading finds it
    failed = _run(env)  # nothing new, but every build reads every part
    assert failed.returncode == 2
    line = failed.stderr.strip().splitlines()[-1]
    assert "step warehouse_models failed" in line and part.name in line, line
    assert "is damaged: run `sms-warehouse run --full-refresh`" in line, line
    repaired = _ok(_run(env, "--full-refresh"))
    assert "ingested dlrs          1 file(s) new or changed" in repaired


# --- damage is noticed and repaired ---------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "edited"])
def test_a_damaged_published_file_is_written_whole_again(
    tmp_path: Path, landing: Path, reference, damage: str
) -> None:
    env = _env(tmp_path, landing)
    _ok(_run(env))
    published = tmp_path / "warehouse" / "sms.duckdb"
    if damage == "truncated":  # a full disk or a bad copy
        published.write_bytes(published.read_bytes()[: published.stat().st_size // 2])
    else:  # someone removed 48 contacts
        with duckdb.connect(str(published)) as con:
            con.execute("delete from marts.fct_launch_contacts where contact_id in "
                        "(select contact_id from marts.fct_launch_contacts order by all limit 48)")  # fmt: skip
    later = copy_receipt_day(landing, tmp_path)  # one more day, so that the publish is incremental
    out = _ok(_run(_env(tmp_path, later)))
    assert f"the published file {published} " in out and "written whole again from the build" in out
    cold = tmp_path / "cold"
    _ok(_run(_env(cold, later)))
    assert read_tables(published) == read_tables(cold / "warehouse" / "sms.duckdb")


def copy_receipt_day(landing: Path, tmp_path: Path) -> Path:
    """The landing zone with one more receipt file in an arrival day it has already."""
    copy = tmp_path / "landing-later"
    if not copy.exists():
        shutil.copytree(landing, copy)
    write_file(copy, "dlrs", DAY, "zz-late.jsonl", jsonl([
        {"received_at": "2026-11-03T23:00:00Z", "provider": "smsc-eu-1", "provider_message_id": "nobody",
         "stat": "DELIVRD", "err": "000", "done_at": "2026-11-03T22:59:00Z"},
    ]))  # fmt: skip
    return copy


def test_a_lake_part_overwritten_with_garbage_is_ingested_again(
    tmp_path: Path, landing: Path, reference
) -> None:
    env = _env(tmp_path, landing)
    _ok(_run(env))
    part = next((tmp_path / "lake" / "send_logs").glob("date=*/part-*.parquet"))
    part.write_bytes(b"garbage")
    out = _ok(_run(env))
    assert "ingested send_logs     1 file(s) new or changed" in out and "dbt: full rebuild" in out
    assert read_tables(tmp_path / "warehouse" / "sms.duckdb") == reference


# --- runs started together take turns -------------------------------------------------------------


def test_three_runs_started_together_take_turns(tmp_path: Path, landing: Path, reference) -> None:
    env = _env(tmp_path, landing)
    runs = [
        subprocess.Popen([CLI, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outs = [run.communicate(timeout=900) for run in runs]
    for run, (out, err) in zip(runs, outs, strict=True):
        assert run.returncode == 0, out[-2000:] + err[-2000:]
    ingesting = [out for out, _ in outs if "] ingested send_logs" in out]
    assert len(ingesting) == 1  # one run ingested; the others waited, then found nothing new
    waited = [out for out, _ in outs if "one command writes the warehouse at a time" in out]
    assert len(waited) == 2 and all("no landing files changed" in out for out in waited)
    assert read_tables(tmp_path / "warehouse" / "sms.duckdb") == reference


# --- out of disk, cleanly -------------------------------------------------------------------------


@contextlib.contextmanager
def small_disk(mount: Path, megabytes: int) -> Iterator[Path]:
    """A filesystem of `megabytes` at `mount` (tmpfs: needs root, as CI runs)."""
    mount.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_fails_the_run_cleanly_and_the_next_run_is_exact(
    tmp_path: Path, landing: Path, reference_run: Path, reference
) -> None:
    import dagster as dg

    temp_before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    lake, build = _size(reference_run / "lake"), (reference_run / "warehouse" / "sms.build.duckdb").stat().st_size
    with small_disk(tmp_path / "disk", 64) as disk:
        env = _env(disk, landing, DAGSTER_HOME=str(tmp_path / "dagster_home"))
        stuffing = disk / "stuffing"
        free = shutil.disk_usage(disk).free
        stuffing.write_bytes(b"\0" * (free - lake - build // 3))  # room for the lake, not for the build
        failed = _run(env)
        assert failed.returncode == 2, failed.stdout[-2000:]
        line = failed.stderr.strip().splitlines()[-1]
        assert "No space left on device" in line and "the disk is full" in line and "MiB free" in line, line
        assert not (disk / "warehouse" / "sms.duckdb").exists()  # nothing half-built was published
        assert (
            not list((disk / "warehouse").glob("*.wal"))
            and not (disk / "warehouse" / "sms.build.duckdb.tmp").exists()
        )
        with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
            [run] = instance.get_runs()
            assert run.status == dg.DagsterRunStatus.FAILURE
        stuffing.unlink()
        _ok(_run(env))
        assert read_tables(disk / "warehouse" / "sms.duckdb") == reference
    assert set(os.listdir(os.environ.get("TMPDIR", "/tmp"))) - temp_before == set()
