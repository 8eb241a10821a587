"""The whole pipeline through the real CLI, Dagster and dbt, on generated data."""

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.landing_builder import clean_env
from tests.warehouse import read_tables

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).with_name("sms-warehouse"))


def _run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("e2e")
    return clean_env(SMS_DATA_DIR=str(root), DAGSTER_HOME=str(root / "dagster_home"))


def test_generate_run_rerun_and_late_receipts(env: dict) -> None:
    root = Path(env["SMS_DATA_DIR"])
    gen = _run("generate", "--out", str(root / "landing"), "--contacts", "3000", "--days", "3", env=env)
    assert gen.returncode == 0, gen.stderr
    first = _run("run", env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "ingested dlrs" in first.stdout and "published" in first.stdout
    assert first.stderr == ""  # a run that went well warns the user of nothing (no library's warnings)
    # the generator makes launch ln-0001 declare one contact more than its list: a warning, not a stop
    assert "warning: marts/mart_campaign_summary declared_list_size" in first.stdout
    assert "warning: dlrs ingest_report" in first.stdout  # its few malformed receipts
    docs = (root / "warehouse" / "data_docs" / "index.html").read_text()
    assert "lake_send_logs" in docs and "marts_contract" in docs  # one site for every suite of the run
    db = root / "warehouse" / "sms.duckdb"
    marts = read_tables(db)

    con = duckdb.connect(str(db), read_only=True)
    bad = con.execute(
        "select launch_id from marts.mart_campaign_summary where not_sent + sent <> launch_list_size "
        "or (delivery_rate is not null and (delivery_rate < 0 or delivery_rate > 1))"
    ).fetchall()
    sums = con.execute(
        "select s.launch_id from marts.mart_campaign_summary s "
        "join (select launch_id, sum(contacts) n, count(*) k from marts.mart_not_sent_reasons group by 1) r using (launch_id) "
        "join (select launch_id, sum(contacts) n, count(*) k from marts.mart_reached_statuses group by 1) t using (launch_id) "
        "where r.n <> s.not_sent or t.n <> s.sent or r.k <> 4 or t.k <> 7"
    ).fetchall()
    delivered = con.execute("select sum(delivered), sum(sent) from marts.mart_campaign_summary").fetchone()
    con.close()
    assert bad == [] and sums == []
    assert 0.8 < delivered[0] / delivered[1] < 0.95  # most messages delivered

    again = _run("run", env=env)
    assert again.returncode == 0, again.stderr
    assert "no landing files changed since they were last ingested" in again.stdout
    assert "] ingested " not in again.stdout  # no feed is materialised again
    assert read_tables(db) == marts  # idempotent

    # a late receipt day lands: a message still with the carrier becomes delivered
    con = duckdb.connect(str(db), read_only=True)
    provider, msg = con.execute(
        "select provider, provider_message_id from marts.fct_launch_contacts where reached_status = 'with_carrier' limit 1"
    ).fetchone()
    con.close()
    late = root / "landing" / "dlrs" / "date=2026-11-20"
    late.mkdir(parents=True)
    (late / "late.jsonl").write_text(
        f'{{"received_at": "2026-11-20T10:00:00Z", "provider": "{provider}", '
        f'"receipt": "id:{msg} done date:2611200959 stat:DELIVRD err:000"}}\n'
    )
    third = _run("run", env=env)
    assert third.returncode == 0, third.stderr
    assert "ingested dlrs          1 file(s) new or changed in 1 day(s)" in third.stdout
    assert third.stderr == ""  # an incremental run too
    con = duckdb.connect(str(db), read_only=True)
    status = con.execute(
        "select reached_status from marts.fct_launch_contacts where provider = ? and provider_message_id = ?",
        [provider, msg],
    ).fetchone()
    con.close()
    assert status == ("delivery_successful",)


def test_missing_landing_is_one_clear_line(env: dict) -> None:
    done = _run("run", "--landing", "/nonexistent/landing", env=env)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "landing directory /nonexistent/landing does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_unwritable_lake_is_one_clear_line(env: dict, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    landing = tmp_path / "landing"
    landing.mkdir()
    done = _run("run", "--landing", str(landing), "--lake", str(blocker / "lake"), env=env)
    assert done.returncode == 2
    assert f"cannot write the lake at {blocker / 'lake'}" in done.stderr and "Traceback" not in done.stderr


def test_locked_build_database_is_one_clear_line(env: dict, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    warehouse = tmp_path / "wh" / "sms.duckdb"
    warehouse.parent.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "time.sleep(60)", str(warehouse.with_name("sms.build.duckdb"))],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ok"
        done = _run("run", "--landing", str(landing), "--warehouse", str(warehouse), env=env)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2
    assert "is locked by another process" in done.stderr and "Traceback" not in done.stderr


def test_export_from_the_dagster_launchpad_config(env: dict) -> None:
    """The export asset an operator runs from the UI, with its launchpad config, through real Dagster:
    list names are checked before the run starts, an unknown launch fails naming the known ones."""
    import dagster as dg

    from orchestration.assets.contact_lists import contact_list_export
    from orchestration.settings import WarehouseSettings

    root = Path(env["SMS_DATA_DIR"])
    con = duckdb.connect(str(root / "warehouse" / "sms.duckdb"), read_only=True)
    launch, campaign, expected = con.execute(
        "select launch_id, campaign_id, count(*) from marts.fct_launch_contacts "
        "where not_sent_reason = 'insufficient_credit' group by all order by 1 limit 1"
    ).fetchone()
    con.close()

    def export(config: dict) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [contact_list_export],
            run_config={"ops": {"contact_list_export": {"config": config}}},
            resources={"settings": WarehouseSettings(data_dir=str(root))},
            raise_on_error=False,
        )

    result = export({"launch_id": launch, "lists": ["insufficient_credit"]})
    assert result.success
    path = root / "exports" / f"campaign={campaign}" / f"launch={launch}" / "insufficient_credit.csv"
    lines = path.read_text().splitlines()
    assert lines[0] == "contact_id,phone_e164" and len(lines) == expected + 1
    assert lines[1:] == sorted(lines[1:])
    [done] = result.get_asset_materialization_events()
    metadata = done.materialization.metadata
    assert metadata["path"].value == str(path) and metadata["dagster/row_count"].value == expected
    [record] = metadata["files"].value.records
    assert record.data == {
        "launch_id": launch,
        "list": "insufficient_credit",
        "contacts": expected,
        "path": str(path),
    }
    preview = metadata[f"first rows: {launch} insufficient_credit"].value.records
    assert [",".join((r.data["contact_id"], r.data["phone_e164"])) for r in preview] == lines[
        1 : 1 + len(preview)
    ]

    with pytest.raises(dg.DagsterInvalidConfigError, match="no_such_list"):  # refused before the run starts
        export({"launch_id": launch, "lists": ["no_such_list"]})
    failed = export({"launch_id": "ln-9999"})
    assert not failed.success
    [failure] = failed.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description
    assert "launch 'ln-9999' has no contacts" in description and f"known launches: {launch}" in description


def test_export_from_the_command_line_is_a_recorded_run(env: dict) -> None:
    root = Path(env["SMS_DATA_DIR"])
    con = duckdb.connect(str(root / "warehouse" / "sms.duckdb"), read_only=True)
    launch, campaign, expected = con.execute(
        "select launch_id, campaign_id, count(*) from marts.fct_launch_contacts "
        "where reached_status = 'rejected_hard_bounce' group by all order by 1 limit 1"
    ).fetchone()
    con.close()
    done = _run("export", "--launch", launch, "--list", "rejected_hard_bounce", env=env)
    assert done.returncode == 0, done.stderr
    path = root / "exports" / f"campaign={campaign}" / f"launch={launch}" / "rejected_hard_bounce.csv"
    assert f"{launch} rejected_hard_bounce: {expected:,} contacts → {path}" in done.stdout
    assert len(path.read_text().splitlines()) == expected + 1
    import dagster as dg

    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        [run] = instance.get_runs(dg.RunsFilter(job_name="export_contact_lists"), limit=1)
        assert (
            run.status == dg.DagsterRunStatus.SUCCESS
            and run.tags["sms/launched_by"] == "sms-warehouse export"
        )

    refused = _run("export", "--launch", launch, "--list", "everyone", env=env)
    assert refused.returncode == 2 and "invalid choice: 'everyone'" in refused.stderr
    unknown = _run("export", "--launch", "ln-9999", env=env)
    assert unknown.returncode == 2 and "launch 'ln-9999' has no contacts" in unknown.stderr
    assert unknown.stderr.count("\n") == 1 and "Traceback" not in unknown.stderr


def test_a_run_names_every_landing_file_with_a_problem(tmp_path: Path) -> None:
    """Four broken files in three feeds: the run goes on with the good rows and names each file,
    its quarantined rows and first problem, or its file error, and where to read the rest."""
    import gzip

    from tests.landing_builder import jsonl, send_logs_csv, write_file

    landing, day = tmp_path / "landing", "2026-11-03"
    write_file(landing, "send_logs", day, "s.csv", send_logs_csv([
        "e1,2026-11-03T08:00:00Z,L1,C1,c1,0612345678,,accepted,p,m1,1",
        "e2,2026-11-03T08:00:00Z,L1,C1,c2,0612345679,,accepted,p,m2,x",  # line 3: segments not a number
        "e3,2026-11-03T08:00:00Z,L1,C1,c3,0612345670,,accepted,p,m3,1",
    ]))  # fmt: skip
    receipt = {"received_at": "2026-11-03T08:02:00Z", "provider": "p", "provider_message_id": "m1",
               "stat": "DELIVRD", "err": "000", "done_at": "2026-11-03T08:01:00Z"}  # fmt: skip
    whole = gzip.compress(jsonl([receipt, receipt | {"provider_message_id": "m3"}]).encode())
    (landing / "dlrs" / f"date={day}").mkdir(parents=True)
    (landing / "dlrs" / f"date={day}" / "cut.jsonl.gz").write_bytes(whole[: len(whole) - 12])
    write_file(
        landing, "dlrs", day, "odd.jsonl", jsonl([receipt | {"provider_message_id": "m2", "stat": "LOST"}])
    )
    write_file(landing, "launches", day, "empty.jsonl", "")
    env = clean_env(SMS_DATA_DIR=str(tmp_path), SMS_LANDING_DIR=str(landing))
    done = _run("run", env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "4 landing file(s) with problems (the good rows of each went on):" in lines, done.stdout
    named = {line.split(": ", 1)[0].strip(): line for line in lines if line.startswith("  ") and ": " in line}
    assert (
        "1 row(s) quarantined, the first (line 3): segments 'x' is not an integer"
        in named[f"send_logs/date={day}/s.csv"]
    )
    assert "file error: truncated gzip stream" in named[f"dlrs/date={day}/cut.jsonl.gz"]
    assert "the first (line 2): incomplete last line" in named[f"dlrs/date={day}/cut.jsonl.gz"]
    assert "stat 'LOST' is not one of" in named[f"dlrs/date={day}/odd.jsonl"]
    assert "file error: empty file (0 bytes)" in named[f"launches/date={day}/empty.jsonl"]
    assert any("audit.quarantine_summary and audit.ingest_files" in line for line in lines)
    con = duckdb.connect(str(tmp_path / "warehouse" / "sms.duckdb"), read_only=True)
    statuses = dict(
        con.execute("select contact_id, reached_status from marts.fct_launch_contacts").fetchall()
    )
    con.close()
    assert statuses == {"c1": "delivery_successful", "c3": "with_carrier"}  # c2's row is in quarantine
