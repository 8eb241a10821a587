"""What BI tools read: the published file opened by the DuckDB 1.x command line from PyPI, the Parquet
tables read by pyarrow, both equal to the marts; only portable column types, under enforced dbt
contracts; a description for every published column, in docs that open offline."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.paths import DBT_PROJECT_DIR
from tests.landing_builder import clean_env, jsonl, write_file
from tests.warehouse import dbt, ingest_all

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PORTABLE = {"BIGINT", "INTEGER", "DOUBLE", "BOOLEAN", "VARCHAR", "DATE", "TIMESTAMP WITH TIME ZONE"}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse published twice: cold, then after one more day of receipts (a small build, whose
    publish copies the published file and replaces the changed contacts)."""
    root = tmp_path_factory.mktemp("bi")
    env = clean_env(SMS_DATA_DIR=str(root))
    subprocess.run([str(BIN / "sms-warehouse"), "generate", "--out", str(root / "landing"), "--contacts", "1500",
                    "--days", "2"], env=env, check=True, capture_output=True)  # fmt: skip
    for _ in range(2):
        done = subprocess.run(
            [str(BIN / "sms-warehouse"), "run"], env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        write_file(root / "landing", "dlrs", "2026-11-25", "late.jsonl", jsonl([
            {"received_at": "2026-11-25T10:00:00Z", "provider": "smsc-eu-1", "receipt": "id:nobody stat:DELIVRD"},
        ]))  # fmt: skip
    assert "duckdb -readonly" in done.stdout  # what the run tells a user to type
    return root / "warehouse" / "sms.duckdb"


def _marts(db: Path, table: str, order: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select * from {table} order by {order}").fetchall()


def test_the_duckdb_1x_command_line_opens_the_published_file(published: Path) -> None:
    """The DuckDB CLI from PyPI (1.5: what BI users' drivers read) reads what the run printed."""
    cli = BIN / "duckdb"
    version = subprocess.run([str(cli), "-version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1.5"), version
    done = subprocess.run(
        [str(cli), "-readonly", "-csv", str(published), "-c",
         "select launch_id, sent, delivered, delivery_rate from marts.mart_campaign_summary order by launch_id"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["launch_id", "sent", "delivered", "delivery_rate"]
    expected = _marts(
        published,
        "(select launch_id, sent, delivered, delivery_rate from marts.mart_campaign_summary)",
        "launch_id",
    )
    assert [(r[0], int(r[1]), int(r[2]), float(r[3])) for r in rows[1:]] == [
        (launch, sent, delivered, pytest.approx(rate)) for launch, sent, delivered, rate in expected
    ]


@pytest.mark.parametrize(
    ("table", "order"),
    [("marts.fct_launch_contacts", "launch_id, contact_id"), ("marts.mart_campaign_summary", "launch_id"),
     ("marts.mart_not_sent_reasons", "launch_id, reason"), ("marts.mart_reached_statuses", "launch_id, status"),
     ("audit.orphan_receipts", "all")],
)  # fmt: skip
def test_pyarrow_reads_the_parquet_tables_as_the_marts_hold_them(
    published: Path, table: str, order: str
) -> None:
    schema, name = table.split(".")
    path = published.parent / "parquet" / schema / f"{name}.parquet"
    with duckdb.connect() as con:  # pyarrow reads the file; DuckDB only sorts what it read
        con.register("from_pyarrow", pq.read_table(path))
        from_parquet = con.execute(f"select * from from_pyarrow order by {order}").fetchall()
    assert from_parquet == _marts(published, table, order)
    assert len(from_parquet) > 0


def test_every_published_column_has_a_portable_type_and_a_description(published: Path) -> None:
    with duckdb.connect(str(published), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns"
        ).fetchall()
    assert {t for *_, t in columns} <= PORTABLE
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    described = {
        (node["schema"], node["name"], column): spec["description"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for column, spec in node["columns"].items()
    }
    missing = [(s, t, c) for s, t, c, _ in columns if not described.get((s, t, c))]
    assert missing == [] and len(columns) > 40
    contracts = {
        node["name"]: node["config"]["contract"]["enforced"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] in ("marts", "audit")
    }
    assert contracts and all(contracts.values()), contracts


def test_the_column_docs_open_offline(published: Path) -> None:
    site = published.parent / "docs" / "index.html"
    text = site.read_text()
    assert "Sent contacts whose winning final receipt is DELIVRD." in text  # a column's description
    assert "<script src=" not in text and 'stylesheet" href="http' not in text


def test_a_column_type_that_changes_fails_the_build(tmp_path: Path) -> None:
    """The contract is enforced: a mart that would publish a HUGEINT count does not build."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    model = project / "models" / "marts" / "mart_campaign_summary.sql"
    model.write_text(model.read_text().replace(
        "count(*) filter (where outcome = 'sent') as sent", "sum(case when outcome = 'sent' then 1 else 0 end) as sent"
    ))  # fmt: skip
    write_file(tmp_path / "landing", "launches", "2026-11-03", "l.jsonl", jsonl([
        {"event_id": "e1", "launch_id": "L1", "campaign_id": "C1", "campaign_type": "batch",
         "launched_at": "2026-11-03T08:00:00Z", "launch_list_size": 0},
    ]))  # fmt: skip
    ingest_all(tmp_path / "landing", tmp_path / "lake")
    done = dbt(["build", "--exclude", "resource_type:unit_test"], tmp_path / "lake", tmp_path / "b.build.duckdb", tmp_path,
               project_dir=project)  # fmt: skip
    assert done.returncode == 1
    assert "contract" in done.stdout.lower() and "sent" in done.stdout and "HUGEINT" in done.stdout.upper()
