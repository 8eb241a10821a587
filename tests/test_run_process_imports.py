"""What the run's own process imports: pandas belongs to the GX worker, not to the run.

Importing pandas takes a run a few tenths of a second on its critical path (and DuckDB,
staging the file to publish in another thread, waits on Python's import lock meanwhile).
Each test reads in a fresh interpreter, where nothing else has imported pandas yet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]


def _in_fresh_python(code: str, env: dict[str, str] | None = None) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.split()


def test_the_contacts_check_reads_its_rows_without_pandas(tmp_path: Path) -> None:
    build_db = tmp_path / "warehouse" / "sms.build.duckdb"
    build_db.parent.mkdir()
    with duckdb.connect(str(build_db)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_launch_contacts as select * from (values "
            "('L1', 'c1', '+3612345678', timestamptz '2026-11-20 10:00:00+00', timestamptz '2026-11-21 00:00:00+00'),"
            "('L1', 'c2', '+3612345679', timestamptz '2026-11-20 10:00:00+00', timestamptz '2026-11-22 00:00:00+00')"
            ") t(launch_id, contact_id, phone_e164, submitted_at, _watermark)"
        )
    printed = _in_fresh_python(
        """
        import sys
        from orchestration.checks.marts import _read_in_batches
        from orchestration.quality.suites import CONTACTS_SQL
        frames = list(_read_in_batches(CONTACTS_SQL, ["2026-11-21 12:00:00+00"]))
        print(sum(f.height for f in frames), frames[0].columns == frames[-1].columns, "pandas" in sys.modules)
        """,
        {"SMS_DATA_DIR": str(tmp_path)},
    )
    # the empty frame first (the columns of a query without rows), then c2, written after the mark
    assert printed == ["1", "True", "False"]


def test_a_parquet_landing_file_is_read_without_pandas(tmp_path: Path) -> None:
    path = tmp_path / "launches.parquet"
    pl.DataFrame({"launch_id": ["L1", "L2"], "campaign_id": ["C1", "C1"]}).write_parquet(path)
    printed = _in_fresh_python(
        f"""
        import sys
        from pathlib import Path
        from ingestion.parquet_file import ParquetBatches
        batches = ParquetBatches(Path({str(path)!r}), ["launch_id", "campaign_id"])
        print(sum(frame.height for frame, _ in batches), batches.error, "pandas" in sys.modules)
        """
    )
    assert printed == ["2", "None", "False"]
