"""Files are read a bounded batch at a time: the answer must not depend on where the batches fall.

Each test reads the same hand-written partition twice, once in one batch and once with
chunks and batches of a few bytes (the module's limits set small), and compares.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import polars as pl
import pytest

from ingestion import generate, parquet_file, textfiles
from ingestion.ingest import ingest_partition
from tests.landing_builder import jsonl, send_logs_csv, write_file

pytestmark = pytest.mark.unit

DAY = "2026-11-03"
SENDS = [
    f"e{i},2026-11-03T08:00:0{i % 10}Z,L1,C1,c{i},061234567{i % 10},,accepted,p,m{i},1" for i in range(1, 13)
]


@pytest.fixture(autouse=True)
def short_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines over 200 bytes are too long, in one batch as in many."""
    monkeypatch.setattr(textfiles, "MAX_LINE_BYTES", 200)


def _tiny_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textfiles, "READ_BYTES", 7)
    monkeypatch.setattr(textfiles, "CHUNK_BYTES", 16)
    monkeypatch.setattr(textfiles, "BATCH_BYTES", 40)
    monkeypatch.setattr(parquet_file, "BATCH_ROWS", 5)


def _read(landing: Path, feed: str) -> tuple[list, list, list]:
    result = ingest_partition(landing, feed, DAY)
    return (
        result.rows.drop("_ingested_at").rows(),
        result.quarantine.select("file", "line", "reason").rows(),
        result.files.rows(),
    )


def test_csv_in_batches_keeps_its_header_line_numbers_and_long_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV whose header is in the first batch only, a duplicate, a bad row and a line over the
    limit in the middle: the same rows, numbers and reasons whatever the batch size."""
    long = "e99," + "x" * 300 + ",L1,C1,c99,0612345678,,accepted,p,m99,1"
    rows = [*SENDS[:6], SENDS[2], long, "e50,bad-date,L1,C1,c50,0612345678,,accepted,p,m50,1", *SENDS[6:]]
    write_file(tmp_path, "send_logs", DAY, "s.csv.gz", "\ufeff" + send_logs_csv(rows).replace("\n", "\r\n"))
    whole = _read(tmp_path, "send_logs")
    _tiny_batches(monkeypatch)
    batched = _read(tmp_path, "send_logs")
    assert batched == whole
    kept, quarantined, files = batched
    assert [r[0] for r in kept] == [f"e{i}" for i in range(1, 13)]
    assert [(line, reason.split(" ")[0]) for _, line, reason in quarantined] == [
        (9, "line"),
        (10, "logged_at"),
    ]
    assert files[0][3:7] == (15, 12, 1, 2)  # read = kept + duplicates + quarantined


def test_concatenated_gzip_members_are_read_to_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cat a.gz b.gz` is one gzip file: both members' rows count, at any chunk size."""
    folder = tmp_path / "send_logs" / f"date={DAY}"
    folder.mkdir(parents=True)
    text = send_logs_csv(SENDS)
    cut = text.index(SENDS[5])
    (folder / "s.csv.gz").write_bytes(gzip.compress(text[:cut].encode()) + gzip.compress(text[cut:].encode()))
    for tiny in (False, True):
        if tiny:
            _tiny_batches(monkeypatch)
        kept, quarantined, files = _read(tmp_path, "send_logs")
        assert len(kept) == 12 and quarantined == [] and files[0][-1] is None


def test_a_gzip_damaged_midway_keeps_the_lines_before_the_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = {"received_at": "2026-11-03T08:02:00Z", "provider": "p", "stat": "DELIVRD", "err": "000",
               "done_at": "2026-11-03T08:01:00Z"}  # fmt: skip
    ids = [f"m{i}-{hashlib.sha256(str(i).encode()).hexdigest()[:24]}" for i in range(40)]  # not compressible
    good = gzip.compress(jsonl([receipt | {"provider_message_id": m} for m in ids]).encode())
    damaged = bytearray(good)
    damaged[len(good) * 3 // 4 : len(good) * 3 // 4 + 8] = b"\xff" * 8
    (tmp_path / "dlrs" / f"date={DAY}").mkdir(parents=True)
    (tmp_path / "dlrs" / f"date={DAY}" / "d.jsonl.gz").write_bytes(bytes(damaged))
    _tiny_batches(monkeypatch)
    kept, quarantined, files = _read(tmp_path, "dlrs")
    assert 0 < len(kept) < 40
    assert [r[2] for r in kept] == ids[: len(kept)]  # the first ones, in order
    error = files[0][-1]
    assert error.startswith("damaged gzip stream after") or error.startswith("truncated gzip"), error


def test_parquet_in_batches_numbers_rows_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = pl.read_csv(send_logs_csv(SENDS).encode(), infer_schema=False).with_columns(
        pl.col("segments").cast(pl.Int64)
    )
    frame = frame.with_columns(
        pl.when(pl.col("event_id") == "e8").then(None).otherwise(pl.col("logged_at")).alias("logged_at")
    )
    path = tmp_path / "send_logs" / f"date={DAY}" / "s.parquet"
    path.parent.mkdir(parents=True)
    frame.write_parquet(path)
    whole = _read(tmp_path, "send_logs")
    _tiny_batches(monkeypatch)
    assert _read(tmp_path, "send_logs") == whole
    assert [(line, reason) for _, line, reason in whole[1]] == [(8, "logged_at is missing")]


def test_a_landing_generated_in_chunks_has_the_same_launch_lists(tmp_path: Path) -> None:
    """The generator writes large landings a chunk of launch-list rows at a time: the launch lists
    and credit blocks are the same as written at once, and event ids stay unique across chunks."""
    generate.generate(tmp_path / "once", contacts=3000, days=3, seed=5)
    generate.generate(tmp_path / "chunked", contacts=3000, days=3, seed=5, chunk_rows=700)
    assert len(list((tmp_path / "chunked" / "send_logs").rglob("*-01.*"))) > 0  # written in parts

    def sends(root: Path) -> pl.DataFrame:
        frames = [
            pl.read_parquet(p) if p.suffix == ".parquet" else pl.read_csv(p, infer_schema=False)
            for p in sorted((root / "send_logs").rglob("*.*"))
        ]
        return pl.concat([f.select(pl.all().cast(pl.String)) for f in frames])

    once, chunked = sends(tmp_path / "once"), sends(tmp_path / "chunked")
    key = ["launch_id", "contact_id", "submit_result", "filter_reason", "segments"]
    assert once.select(key).sort(key).equals(chunked.select(key).sort(key))
    assert chunked["event_id"].n_unique() == chunked.height
    blocked = [
        sorted(pl.read_ndjson(p)["contact_id"].to_list() for p in (root / "credit_blocks").rglob("*.jsonl*"))
        for root in (tmp_path / "once", tmp_path / "chunked")
    ]
    assert sorted(sum(blocked[0], [])) == sorted(sum(blocked[1], []))
