"""A landing file past the memory limit spills to disk and gives the same lake rows and accounting.

The memory limit (`SMS_INGEST_MEMORY_LIMIT`) is one byte here, so the first batch already spills
and every bucket is split as deep as it goes: the smallest fixture runs the whole
spilling path. The file larger than memory itself is `test_hostile_files.py`'s.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from ingestion.ingest import ingest_file, ingest_partition
from ingestion.spill import parse_size
from tests.landing_builder import jsonl, send_logs_csv, write_file

pytestmark = pytest.mark.unit

DAY = "2026-11-03"


def _row(event: str, contact: str) -> str:
    return f"{event},2026-11-03T08:00:00Z,L1,C1,{contact},0612345678,,accepted,p,m-{event},1"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """a.csv: e1, e2, e2 again (line 4), e3 three times; b.csv: e2 (already in a.csv), e4, a bad row."""
    landing = tmp_path / "landing"
    write_file(landing, "send_logs", DAY, "a.csv", send_logs_csv(
        [_row("e1", "c1"), _row("e2", "c2"), _row("e2", "c2-again"), _row("e3", "c3"), _row("e3", "x"),
         _row("e3", "y")]
    ))  # fmt: skip
    write_file(landing, "send_logs", DAY, "b.csv", send_logs_csv(
        [_row("e2", "c2-in-b"), _row("e4", "c4"), "e5,not-a-time,L1,C1,c5,0612345678,,accepted,p,m5,1"]
    ))  # fmt: skip
    return landing


def _kept(rows: pl.DataFrame | pl.LazyFrame) -> list[tuple]:
    rows = rows.lazy().select("event_id", "contact_id", "_source_file", "_source_line").sort("event_id")
    return rows.collect().rows()


def test_a_spilled_file_keeps_the_first_row_of_each_key_like_one_in_memory(
    landing: Path, tmp_path: Path
) -> None:
    a_csv = landing / "send_logs" / f"date={DAY}" / "a.csv"
    in_memory = ingest_file(a_csv, "send_logs", DAY)
    scratch = tmp_path / "scratch"
    with ingest_file(a_csv, "send_logs", DAY, scratch=scratch, memory_limit=1) as spilled:
        assert isinstance(spilled.rows, pl.LazyFrame) and isinstance(in_memory.rows, pl.DataFrame)
        first = [
            ("e1", "c1", f"send_logs/date={DAY}/a.csv", 2),
            ("e2", "c2", f"send_logs/date={DAY}/a.csv", 3),  # not line 4
            ("e3", "c3", f"send_logs/date={DAY}/a.csv", 5),
        ]
        assert _kept(spilled.rows) == _kept(in_memory.rows) == first
        accounting = ["file", "rows_read", "rows_kept", "duplicates", "quarantined"]
        assert spilled.accounting.select(accounting).rows() == [(f"send_logs/date={DAY}/a.csv", 6, 3, 3, 0)]
        assert spilled.accounting.equals(in_memory.accounting)
        assert spilled.quarantine.equals(in_memory.quarantine)
        assert spilled.rows.collect_schema() == in_memory.rows.schema
        assert any(scratch.rglob("*.parquet"))  # the rows are on disk until the result is closed
    assert not any(scratch.rglob("*.parquet"))


def test_a_row_repeated_in_another_file_of_the_day_stays_in_that_file(landing: Path) -> None:
    """b.csv repeats e2 of a.csv: each file is ingested on its own, so b.csv keeps it (the marts
    count e2's contact once, as they do across days); b.csv's bad row is quarantined on its own."""
    day = ingest_partition(landing, "send_logs", DAY)
    assert _kept(day.results[1].rows) == [
        ("e2", "c2-in-b", f"send_logs/date={DAY}/b.csv", 2),
        ("e4", "c4", f"send_logs/date={DAY}/b.csv", 3),
    ]
    assert day.files.select("rows_read", "rows_kept", "duplicates", "quarantined").rows() == [
        (6, 3, 3, 0),
        (3, 2, 0, 1),
    ]


def test_a_memory_limit_is_read_as_a_size_and_a_wrong_one_is_named() -> None:
    assert (parse_size("1GB"), parse_size("512MB"), parse_size("64MiB"), parse_size("1000")) == (
        10**9,
        512 * 10**6,
        64 << 20,
        1000,
    )
    with pytest.raises(ValueError, match="'lots' is not a size"):
        parse_size("lots")


def test_a_run_clears_what_a_stopped_spill_left_and_leaves_no_scratch(landing: Path, tmp_path: Path) -> None:
    """A run killed while a file spilled leaves its scratch folder; the next ingest removes it."""
    from ingestion.lake import scratch_dir
    from ingestion.phones import PhoneMemo
    from orchestration.assets.landing import ingest_changes
    from orchestration.paths import Paths
    from orchestration.warehouse.landing_changes import landing_changes

    paths = Paths(
        landing, tmp_path / "lake", tmp_path / "warehouse.duckdb", tmp_path / "exports", tmp_path / "reports"
    )
    left = scratch_dir(paths.lake) / "partition-killed" / "split-0" / "bucket-03" / "000001.parquet"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"PAR1")
    changes = landing_changes(paths.landing, paths.lake, "FR").touched["send_logs"]
    summary = ingest_changes(paths, "send_logs", changes, PhoneMemo(), memory_limit=10**9)
    assert summary.files_ingested == 2 and not left.exists()
    assert pl.read_parquet(summary.parts[0])["event_id"].to_list() == ["e1", "e2", "e3"]


def test_the_first_row_is_the_first_in_file_and_line_order_whatever_order_the_rows_come_in() -> None:
    from ingestion.spill import keep_first

    rows = pl.DataFrame(
        {
            "event_id": ["e1", "e1", "e1", "e2"],
            "_source_file": ["b.csv", "a.csv", "a.csv", "b.csv"],
            "_line": [2, 9, 3, 5],
        },
        schema_overrides={"_line": pl.UInt32},
    )
    first, lost = keep_first(rows, ["event_id"])
    assert first.rows() == [("e1", "a.csv", 3), ("e2", "b.csv", 5)]
    assert sorted(lost.rows()) == [("a.csv", 1), ("b.csv", 1)]


def test_receipts_spill_on_their_natural_key_with_its_empty_parts(tmp_path: Path) -> None:
    """DLRs have no event id: their key is six columns, `err` and `done_at` often empty. m1 comes
    three times without a done date and is kept once; m1 with a done date is another receipt."""
    receipt = {"received_at": "2026-11-03T08:02:00Z", "provider": "p", "provider_message_id": "m1",
               "stat": "ACCEPTD", "err": None, "done_at": None}  # fmt: skip
    done = receipt | {"stat": "DELIVRD", "err": "000", "done_at": "2026-11-03T08:01:00Z"}
    path = write_file(tmp_path / "landing", "dlrs", DAY, "a.jsonl", jsonl([receipt, receipt, done, receipt]))
    in_memory = ingest_file(path, "dlrs", DAY)
    with ingest_file(path, "dlrs", DAY, scratch=tmp_path / "scratch", memory_limit=1) as spilled:
        assert isinstance(spilled.rows, pl.LazyFrame)
        columns = ["provider_message_id", "stat", "_source_file", "_source_line"]
        got = spilled.rows.select(columns).sort(columns).collect().rows()
        assert (
            got
            == in_memory.rows.select(columns).sort(columns).rows()
            == [
                ("m1", "ACCEPTD", f"dlrs/date={DAY}/a.jsonl", 1),
                ("m1", "DELIVRD", f"dlrs/date={DAY}/a.jsonl", 3),
            ]
        )
        assert spilled.accounting.select("rows_read", "rows_kept", "duplicates").rows() == [(4, 2, 2)]
        assert spilled.accounting.equals(in_memory.accounting)
