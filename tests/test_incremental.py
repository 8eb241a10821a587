"""Incremental builds: a run after each arrival day gives the same marts as one run over everything.

The dbt models merge only the contacts and messages touched by newly ingested rows
(dbt_project/macros/incremental.sql); orchestration/warehouse/rebuild.py decides when a
build must start again from the whole lake.
"""

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.paths import Paths
from orchestration.settings import WarehouseSettings
from orchestration.warehouse import rebuild
from tests.landing_builder import clean_env
from tests.warehouse import MARTS, read_tables

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("sms-warehouse"))
TABLES = (*MARTS, "audit.orphan_receipts", "audit.unattributed_keyword_optouts")
CONTACT_COLUMNS = [  # contract/marts.md, in its order
    "launch_id", "contact_id", "campaign_id", "phone_e164", "outcome", "not_sent_reason", "reached_status",
    "provider", "provider_message_id", "segments", "submitted_at", "final_receipt_at",
    "unsubscribed_via_link", "opted_out_by_keyword",
]  # fmt: skip


def _run(data: Path, landing: Path, *flags: str) -> str:
    done = subprocess.run(
        [CLI, "run", *flags],
        env=clean_env(SMS_DATA_DIR=str(data), SMS_LANDING_DIR=str(landing)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _arrival_days(landing: Path) -> list[str]:
    return sorted({p.name.removeprefix("date=") for p in landing.glob("*/date=*")})


def _copy_days_up_to(source: Path, target: Path, last_day: str) -> None:
    """Land every partition of `source` up to `last_day` that `target` does not have yet."""
    for folder in source.glob("*/date=*"):
        day = folder.name.removeprefix("date=")
        dest = target / folder.parent.name / folder.name
        if day <= last_day and not dest.exists():
            shutil.copytree(folder, dest)


def test_day_by_day_runs_equal_one_run_over_everything(tmp_path: Path) -> None:
    full = tmp_path / "full"
    gen = subprocess.run([CLI, "generate", "--out", str(full), "--contacts", "1500", "--days", "3"],
                         env=clean_env(), capture_output=True, text=True)  # fmt: skip
    assert gen.returncode == 0, gen.stderr
    days = _arrival_days(full)
    assert len(days) >= 4  # receipts keep arriving after the launches

    staged, landing = tmp_path / "staged", tmp_path / "staged" / "landing"
    _copy_days_up_to(full, landing, days[1])
    assert "dbt: full rebuild (first build)" in _run(staged, landing)
    _copy_days_up_to(full, landing, days[-1])  # later sends, late and duplicated receipts, STOPs
    assert "dbt: incremental build of what is new" in _run(staged, landing)

    # a file lands late in an arrival day that was already ingested: it only adds rows, so it is
    # ingested alone and the build stays incremental
    con = duckdb.connect(str(staged / "warehouse" / "sms.duckdb"), read_only=True)
    launch, contact = con.execute(
        "select launch_id, contact_id from marts.fct_launch_contacts "
        "where outcome = 'sent' and not unsubscribed_via_link order by all limit 1"
    ).fetchone()
    con.close()
    extra = json.dumps({"event_id": "u-late", "occurred_at": f"{days[0]}T23:00:00Z",
                        "launch_id": launch, "contact_id": contact})  # fmt: skip
    for root in (full, landing):
        (root / "unsubscribes" / f"date={days[0]}" / "late.jsonl").write_text(extra + "\n")
    out = _run(staged, landing)
    assert "ingested unsubscribes  1 file(s) new or changed in 1 day(s)" in out
    assert "dbt: incremental build of what is new" in out
    staged_paths = WarehouseSettings(data_dir=str(staged), landing_dir=str(landing)).paths
    assert rebuild.reasons(staged_paths) == []  # and the next build is incremental again

    cold = tmp_path / "cold"
    assert "dbt: full rebuild (a full refresh was asked for)" in _run(cold, full, "--full-refresh")
    staged_tables = read_tables(staged / "warehouse" / "sms.duckdb", TABLES)
    assert staged_tables == read_tables(cold / "warehouse" / "sms.duckdb", TABLES)
    assert len(staged_tables["marts.fct_launch_contacts"]) == 1500
    unsubscribed = [r for r in staged_tables["marts.fct_launch_contacts"] if r[:2] == (launch, contact)]
    assert unsubscribed[0][-2] is True  # the late click counted

    # the bookkeeping column stays in the build database; BI tools see the contract's columns
    published = duckdb.connect(str(staged / "warehouse" / "sms.duckdb"), read_only=True)
    assert [
        c[0] for c in published.execute("describe marts.fct_launch_contacts").fetchall()
    ] == CONTACT_COLUMNS
    published.close()
    build = duckdb.connect(str(staged / "warehouse" / "sms.build.duckdb"), read_only=True)
    assert "_watermark" in {c[0] for c in build.execute("describe marts.fct_launch_contacts").fetchall()}
    build.close()


def _paths(tmp_path: Path) -> Paths:
    return WarehouseSettings(data_dir=str(tmp_path), warehouse=str(tmp_path / "wh" / "sms.duckdb")).paths


def test_when_a_build_must_start_from_the_whole_lake(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    assert rebuild.reasons(paths) == ["first build"]
    paths.build_db.parent.mkdir(parents=True)
    paths.build_db.touch()
    assert rebuild.reasons(paths) == ["no record of the last build"]  # e.g. killed before it was recorded
    rebuild.record_build(paths)
    assert rebuild.reasons(paths) == []
    assert rebuild.reasons(paths, asked=True) == ["a full refresh was asked for"]
    rebuild.begin_build(paths)  # a build that fails or is stopped after this point
    assert rebuild.reasons(paths) == ["the last build did not finish"]
    rebuild.record_build(paths)
    assert rebuild.reasons(paths) == []

    rebuild.note_lake_change(paths.lake, "dlrs/date=2026-11-03 was ingested again")
    assert rebuild.reasons(paths) == ["dlrs/date=2026-11-03 was ingested again"]
    rebuild.note_lake_change(paths.lake, "dlrs/date=2026-11-04 was ingested again")
    assert rebuild.reasons(paths) == ["dlrs/date=2026-11-03 was ingested again (and 1 more)"]
    rebuild.record_build(paths)
    assert rebuild.reasons(paths) == []

    shutil.rmtree(paths.lake)  # a wiped lake gets a new id
    assert rebuild.reasons(paths) == ["the lake is not the one the marts were built from"]


def test_any_change_to_models_seeds_or_macros_changes_the_digest(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    for part in ("models/marts", "seeds", "macros"):
        (project / part).mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: x\n")
    (project / "models/marts/m.sql").write_text("select 1\n")
    (project / "seeds/permanent_errors.csv").write_text("err_code\n1\n")
    before = rebuild.project_digest(project)
    assert rebuild.project_digest(project) == before  # stable
    (project / "seeds/permanent_errors.csv").write_text("err_code\n1\n2\n")  # an operator adds an error
    assert rebuild.project_digest(project) != before


def test_ingestion_and_builds_take_turns_on_the_lake(tmp_path: Path) -> None:
    """A build stamps rows with its start, so it must wait while another process writes the lake."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys, time
            from pathlib import Path
            from orchestration.warehouse import rebuild
            with rebuild.lake_turn(Path(sys.argv[1])):
                print("holding", flush=True)
                time.sleep(2)
        """), str(tmp_path / "lake")],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    started = time.monotonic()
    with rebuild.lake_turn(tmp_path / "lake"):
        waited = time.monotonic() - started
    assert holder.wait(timeout=30) == 0
    assert waited > 1.0  # it waited for the other process to let go


def test_a_new_default_region_ingests_phone_feeds_again(tmp_path: Path) -> None:
    """Numbers without a country prefix depend on SMS_DEFAULT_REGION: lake phones must follow it."""
    from ingestion.landing import survey
    from orchestration.warehouse.landing_changes import fingerprint

    for feed in ("send_logs", "dlrs"):
        (tmp_path / feed / "date=2026-11-03").mkdir(parents=True)
        (tmp_path / feed / "date=2026-11-03" / "a.csv").write_text("x\n")
    found = survey(tmp_path)
    [send_log], [receipts] = found.files_of("send_logs", "2026-11-03"), found.files_of("dlrs", "2026-11-03")
    assert fingerprint(send_log, "FR") != fingerprint(send_log, "GB")  # ingested again with the new region
    assert fingerprint(receipts, "FR") == fingerprint(receipts, "GB")  # receipts carry no phone numbers


def test_a_run_materialises_only_the_partitions_that_changed(tmp_path: Path) -> None:
    """One more day of receipts: Dagster records that one partition, not the history again."""
    import dagster as dg
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    from tests.landing_builder import jsonl, send_logs_csv, write_file

    landing = tmp_path / "landing"
    write_file(landing, "send_logs", "2026-11-03", "s.csv", send_logs_csv([
        "e1,2026-11-03T08:00:00Z,L1,C1,c1,0612345678,,accepted,p,m1,1",
    ]))  # fmt: skip
    write_file(landing, "unsubscribes", "2026-11-04", "u.jsonl", jsonl([
        {"event_id": "u1", "occurred_at": "2026-11-04T09:00:00Z", "launch_id": "L1", "contact_id": "c1"},
    ]))  # fmt: skip
    first = _run(tmp_path, landing)  # recorded in data/dagster_home, as every run
    assert "ingested send_logs     1 file(s) new or changed in 1 day(s)" in first
    # the warehouse's own dbt target folder, kept from build to build: the compiled SQL, and the parse
    # state the next build starts from (dbt parses only what changed since)
    build_target = tmp_path / "warehouse" / "dbt"
    assert (build_target / "compiled").is_dir() and (build_target / "partial_parse.msgpack").exists()

    write_file(landing, "dlrs", "2026-11-06", "d.jsonl", jsonl([
        {"received_at": "2026-11-06T10:00:00Z", "provider": "p", "receipt": "id:m1 stat:DELIVRD err:000"},
    ]))  # fmt: skip
    second = _run(tmp_path, landing)
    assert "run: dlrs over arrival days 2026-11-06 to 2026-11-06, then dbt" in second
    assert "ingested dlrs          1 file(s) new or changed in 1 day(s)" in second
    assert "ingested send_logs" not in second  # unchanged: not part of the run
    third = _run(tmp_path, landing)  # nothing new: no feed is materialised
    assert "no landing files changed" in third and "] ingested " not in third

    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        partitions = {
            feed: sorted(
                r.partition_key for r in instance.fetch_materializations(dg.AssetKey(feed), limit=100).records
            )
            for feed in ("send_logs", "unsubscribes", "dlrs")
        }
        seed = dg.AssetKey(["reference", "permanent_errors"])
        seed_loads = instance.fetch_materializations(seed, limit=100).records
        view = dg.AssetKey(["staging", "stg_dlrs"])
        view_builds = instance.fetch_materializations(view, limit=100).records
        publishes = instance.fetch_materializations(dg.AssetKey("published_warehouse"), limit=100).records
        storage = instance.event_log_storage
        done = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}
        seed_tested = storage.get_asset_check_execution_history(
            dg.AssetCheckKey(seed, "unique_permanent_errors_err_code"), limit=100, status=done
        )
        vocabulary_tested = storage.get_asset_check_execution_history(
            dg.AssetCheckKey(
                dg.AssetKey(["marts", "fct_launch_contacts"]),
                "relationships_fct_launch_contacts_reached_status__status__ref_reached_statuses_",
            ),
            limit=100,
            status=done,
        )
    # three builds: the first one full, loading and testing the reference seeds and creating the
    # staging views; the incremental ones leave those as they are, but still test the marts
    # against their vocabularies
    assert (len(seed_loads), len(seed_tested), len(view_builds), len(vocabulary_tested)) == (1, 1, 1, 3)
    # each publish put in place the file written while the mart checks ran (checks passed)
    staged = [r.asset_materialization.metadata["staged_during_checks"].value for r in publishes]
    assert staged == [True, True, True]
    # the first run spans the days of its changes (03-04, the same range for both feeds);
    # the second one only the receipts' day; the third none
    assert partitions == {
        "send_logs": ["2026-11-03", "2026-11-04"],
        "unsubscribes": ["2026-11-03", "2026-11-04"],
        "dlrs": ["2026-11-06"],
    }
