"""Great Expectations suites and the gates they drive: blocking failures stop publication."""

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion.feeds import FEEDS
from ingestion.ingest import ingest_partition
from orchestration.quality import suites
from orchestration.quality.validation import run_suite
from orchestration.warehouse.publish import staged_path
from tests.landing_builder import clean_env, jsonl, send_logs_csv, write_file

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.mark.unit
def test_marts_contract_names_the_launch_missing_a_status_row(tmp_path: Path) -> None:
    """A launch without a row for each reason and status would pass the dbt tests (the sums hold with a
    zero left out): the GX suite names it. The sums and the grain themselves are dbt tests."""
    frame = pl.DataFrame(
        {
            "launch_id": ["L1", "L2"],
            "launch_list_size": [10, 10],
            "declared_launch_list_size": [10, 12],
            "reason_rows": [4, 4],
            "status_rows": [7, 6],  # L2: one of the seven statuses has no row
        }
    )
    result = run_suite("marts_contract", frame, suites.marts_contract(), tmp_path / "docs", ["launch_id"])
    [failure] = result.failures
    assert (failure.expectation, failure.column, failure.unexpected) == (
        "expect_column_values_to_be_between",
        "status_rows",
        1,
    )
    assert [row["launch_id"] for row in failure.sample] == ["L2"]
    assert (tmp_path / "docs" / "index.html").exists()  # rendered as Data Docs

    declared = run_suite("declared", frame, suites.declared_list_size(), None, ["launch_id"])
    assert [row["launch_id"] for row in declared.failures[0].sample] == ["L2"]


@pytest.mark.unit
def test_contacts_suite_names_failing_contacts_by_ids_it_does_not_check() -> None:
    """The ids are not read by any expectation (they join only the pass that samples failures)."""
    sent = dt.datetime(2026, 11, 3, 8, 0, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {
            "launch_id": ["L1", "L1", "L2"],
            "contact_id": ["c1", "c2", "c3"],
            "phone_e164": ["+33612345678", "0612345678", "+33612345679"],  # c2: not E.164
            "submitted_at": [sent] * 3,
            "final_receipt_at": [sent + dt.timedelta(minutes=2)] * 3,
            "receipt_lag_minutes": [2.0] * 3,
        }
    )
    result = run_suite("contacts", frame, suites.contacts_contract(NOW), None, ["launch_id", "contact_id"])
    [failure] = result.failures
    assert failure.column == "phone_e164" and failure.unexpected == 1
    assert [(row["launch_id"], row["contact_id"]) for row in failure.sample] == [("L1", "c2")]


@pytest.mark.unit
def test_lake_suite_catches_future_times_bad_enums_and_non_e164_phones(tmp_path: Path) -> None:
    write_file(tmp_path, "send_logs", "2026-11-03", "s.csv", send_logs_csv([
        "e1,2026-11-03T08:00:00Z,L1,C1,c1,0612345678,,accepted,p,m1,1",
        "e2,2031-01-01T08:00:00Z,L1,C1,c2,0612345679,,accepted,p,m2,1",  # from the future
    ]))  # fmt: skip
    rows = ingest_partition(tmp_path, "send_logs", "2026-11-03").rows
    rows = rows.with_columns(
        pl.when(pl.col("event_id") == "e1").then(pl.lit("0612")).otherwise("phone_e164").alias("phone_e164")
    )
    result = run_suite("lake", rows, suites.lake_rows(FEEDS["send_logs"], NOW))
    failed = {(f.expectation, f.column): f.unexpected for f in result.failures}
    assert failed == {
        ("expect_column_values_to_be_between", "logged_at"): 1,
        ("expect_column_values_to_match_regex", "phone_e164"): 1,
    }
    assert suites.schema_problems(rows.drop("segments"), FEEDS["send_logs"]) == ["missing column segments"]
    columns = run_suite(
        "lake_columns", rows.drop("segments").head(0), suites.lake_columns(FEEDS["send_logs"])
    )
    assert [f.expectation for f in columns.failures] == ["expect_table_columns_to_match_set"]
    assert "segments" not in columns.failures[0].observed  # the columns GX saw, to compare with the set


CLI = str(Path(sys.executable).with_name("sms-warehouse"))


@pytest.mark.slow
def test_a_blocking_failure_stops_the_run_and_publishes_nothing(tmp_path: Path) -> None:
    """A send time years in the future passes ingestion's types but fails the lake expectations."""
    landing = tmp_path / "landing"
    write_file(landing, "send_logs", "2026-11-03", "s.csv", send_logs_csv([
        "e1,2026-11-03T08:00:00Z,L1,C1,c1,0612345678,,accepted,p,m1,1",
        "e2,2031-01-01T08:00:00Z,L1,C1,c2,0612345679,,accepted,p,m2,1",
    ]))  # fmt: skip
    write_file(landing, "unsubscribes", "2026-11-03", "u.jsonl", jsonl([
        {"event_id": "u1", "occurred_at": "2026-11-03T09:00:00Z", "launch_id": "L1", "contact_id": "c1"},
    ]))  # fmt: skip
    env = clean_env(SMS_DATA_DIR=str(tmp_path), SMS_LANDING_DIR=str(landing))
    for attempt in (1, 2):  # the failed partition is checked again, not skipped as already ingested
        done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 2, (attempt, done.stdout[-2000:], done.stderr[-2000:])
        assert "FAILED: send_logs lake_expectations" in done.stdout
        assert "expect_column_values_to_be_between(logged_at) on 1 rows" in done.stdout
        assert "nothing was built or published" in done.stderr
        assert not (tmp_path / "warehouse" / "sms.duckdb").exists()
    assert (tmp_path / "warehouse" / "data_docs" / "index.html").exists()

    # the operator removes the bad day from the landing zone instead of fixing it: the lake lets
    # go of the partition that never passed its checks, so no build ever reads it
    shutil.rmtree(landing / "send_logs" / "date=2026-11-03")
    done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert not (tmp_path / "lake" / "send_logs" / "date=2026-11-03").exists()
    con = duckdb.connect(str(tmp_path / "warehouse" / "sms.duckdb"), read_only=True)
    assert con.execute("select count(*) from marts.fct_launch_contacts").fetchone() == (0,)
    con.close()


@pytest.mark.slow
def test_a_failing_mart_check_publishes_nothing(tmp_path: Path) -> None:
    """A contact with a phone that is not E.164 in the build (as a faulty model would leave it):
    the marts build, the blocking contacts check fails, and the published warehouse is not
    replaced. (A receipt dated before its send is a warning, not this: tests/test_receipts.py.)"""
    landing = tmp_path / "landing"
    write_file(landing, "send_logs", "2026-11-03", "s.csv", send_logs_csv([
        "e1,2026-11-03T10:00:00Z,L1,C1,c1,0612345678,,accepted,p,m1,1",
    ]))  # fmt: skip
    env = clean_env(SMS_DATA_DIR=str(tmp_path), SMS_LANDING_DIR=str(landing))
    done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    published = tmp_path / "warehouse" / "sms.duckdb"
    before = published.stat().st_mtime_ns
    con = duckdb.connect(str(tmp_path / "warehouse" / "sms.build.duckdb"))  # stamped by a later build
    con.execute(
        "update marts.fct_launch_contacts set phone_e164 = '0612345678', "
        "_watermark = _watermark + interval 1 microsecond where contact_id = 'c1'"
    )
    con.close()
    done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "FAILED: marts/fct_launch_contacts contacts_contract" in done.stdout
    assert "expect_column_values_to_match_regex(phone_e164) on 1 rows" in done.stdout
    assert "published marts were left unchanged" in done.stderr
    assert published.stat().st_mtime_ns == before  # the published file was not replaced
    assert not staged_path(published).exists()  # nor a staged one left behind
    # the next build writes another contact: c1, still not published, is checked again with it
    write_file(landing, "send_logs", "2026-11-04", "s.csv", send_logs_csv([
        "e2,2026-11-04T10:00:00Z,L2,C1,c2,0612345679,,accepted,p,m2,1",
    ]))  # fmt: skip
    done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "expect_column_values_to_match_regex(phone_e164) on 1 rows" in done.stdout
    assert published.stat().st_mtime_ns == before


# what a faulty build leaves in c1's deciding send row, and the dbt test of the contacts it fails
FAULTS = {
    # the row twice, as a faulty merge would leave it: the grain
    "twice": (
        "insert into intermediate.int_deciding_send_rows "
        "select * replace ('e0' as event_id) from intermediate.int_deciding_send_rows",
        "unique_combination_fct_launch_contacts_launch_id__contact_id",
    ),
    # a submit result no rule knows: c1 is sent without a reached status, a rule of one row that
    # is tested on the rows the build wrote only (the ones the late receipt makes it write)
    "unknown submit result": (
        "update intermediate.int_deciding_send_rows set submit_result = 'queued'",
        "expression_is_true_fct_launch_contacts__outcome_sent_reached_status_is_not_null_and_outcome_not_sent_not_sent_reason_is_not_null_",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_dbt_test_publishes_nothing(tmp_path: Path, fault: str) -> None:
    """The contacts' dbt tests (not repeated in GX): when one fails, the build fails and the
    published marts stay as they were; the next build starts from the lake."""
    change, failed_test = FAULTS[fault]
    landing = tmp_path / "landing"
    write_file(landing, "send_logs", "2026-11-03", "s.csv", send_logs_csv([
        "e1,2026-11-03T10:00:00Z,L1,C1,c1,0612345678,,accepted,p,m1,1",
    ]))  # fmt: skip
    env = clean_env(SMS_DATA_DIR=str(tmp_path), SMS_LANDING_DIR=str(landing))
    done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # the fault in the build database: the next build is incremental, and c1's new receipt makes
    # it decide c1 again, from the faulty row
    con = duckdb.connect(str(tmp_path / "warehouse" / "sms.build.duckdb"))
    con.execute(change)
    con.close()
    write_file(landing, "dlrs", "2026-11-04", "d.jsonl", jsonl([
        {"received_at": "2026-11-04T10:00:00Z", "provider": "p", "provider_message_id": "m1",
         "stat": "DELIVRD", "err": "000", "done_at": "2026-11-04T09:59:00Z"},
    ]))  # fmt: skip
    done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"FAILED: marts/fct_launch_contacts {failed_test}" in done.stdout, done.stdout[-3000:]
    assert "published marts were left unchanged" in done.stderr
    con = duckdb.connect(str(tmp_path / "warehouse" / "sms.duckdb"), read_only=True)
    assert con.execute("select contact_id, reached_status from marts.fct_launch_contacts").fetchall() == [
        ("c1", "with_carrier")
    ]
    con.close()
    # the incremental tests count only the keys a build wrote, so a failed build is never built
    # on: the next run starts again from the whole lake, which decides c1 once
    done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "dbt: full rebuild (the last build did not finish)" in done.stdout
    con = duckdb.connect(str(tmp_path / "warehouse" / "sms.duckdb"), read_only=True)
    assert con.execute("select contact_id, reached_status from marts.fct_launch_contacts").fetchall() == [
        ("c1", "delivery_successful")
    ]
    con.close()


@pytest.mark.unit
def test_lake_check_reads_the_new_partitions_back_in_slices_and_adds_them_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two arrival days, one row from the future in each: checked a row at a time (as a cold run
    checks millions, a slice at a time), the one result counts both rows, as one pass would."""
    from ingestion.ingest import ingest_file
    from ingestion.lake import part_path, write_part
    from orchestration.checks import lake, validator
    from orchestration.checks.validator import Validator

    landing, lake_dir = tmp_path / "landing", tmp_path / "lake"
    for day, rows in (("2026-11-03", ["e1,2026-11-03T08:00:00Z", "e2,2031-01-01T08:00:00Z"]),
                      ("2026-11-04", ["e3,2031-01-02T08:00:00Z", "e4,2026-11-04T08:00:00Z"])):  # fmt: skip
        write_file(landing, "send_logs", day, "s.csv", send_logs_csv(
            [f"{r},L1,C1,c{r[1]},061234567{r[1]},,accepted,p,m{r[1]},1" for r in rows]))  # fmt: skip
        with ingest_file(landing / "send_logs" / f"date={day}" / "s.csv", "send_logs", day) as result:
            write_part(lake_dir, "send_logs", day, "s.csv", result)
    partitions = [part_path(lake_dir, "send_logs", d, "s.csv") for d in ("2026-11-03", "2026-11-04")]
    files = pl.concat(
        [pl.read_parquet(part_path(lake_dir, "send_logs", d, "s.csv", "_files")) for d in ("2026-11-03", "2026-11-04")]
    )

    def failed(check_rows: int) -> tuple[bool, list]:
        monkeypatch.setattr(validator, "CHECK_ROWS", check_rows)
        result = lake.lake_check(Validator(), tmp_path / "data_docs", "send_logs", partitions, files)
        return result.passed, result.metadata["problems"].value

    in_slices, at_once = failed(1), failed(1_000_000)
    assert in_slices == at_once
    assert in_slices == (False, ["lake_send_logs: expect_column_values_to_be_between(logged_at) on 2 rows"])


@pytest.mark.unit
def test_checked_rows_are_gathered_into_slices_in_order() -> None:
    """Partitions of 3, 0, 5 and 1 rows checked 4 at a time: three validations, not four, the rows
    in their order; no rows at all is still one (empty) validation, so the suite's columns are seen."""
    from orchestration.checks.validator import slices

    frames = [pl.DataFrame({"n": list(range(k))}) for k in (3, 0, 5, 1)]
    parts = list(slices(frames, 4))
    assert [p.height for p in parts] == [4, 4, 1]
    assert pl.concat(parts)["n"].to_list() == [0, 1, 2, 0, 1, 2, 3, 4, 0]
    assert [p.height for p in slices(frames, 100)] == [9]
    [empty] = slices([pl.DataFrame(schema={"n": pl.Int64})], 4)
    assert empty.schema == pl.Schema({"n": pl.Int64}) and empty.height == 0
