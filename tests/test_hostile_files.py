"""No landing file decides how much memory a run takes: a gzip bomb and a line of gigabytes.

Each is read through the real run (or the real partition reader) in a child process whose
peak resident memory is measured by the kernel (`ru_maxrss` of the waited-for children).
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import duckdb
import pytest

from tests.landing_builder import clean_env, jsonl, send_logs_csv, write_file

CLI = str(Path(sys.executable).with_name("sms-warehouse"))
DAY = "2026-11-03"
GIB = 1 << 30
PEAK_LIMIT_MIB = 2048

# runs a command and prints the largest peak RSS (MiB) among it and the descendants it waited for
_PEAK = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "print(done.stdout + done.stderr); print('rc', done.returncode); "
    "print('peak_mib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)"
)


def _with_peak(*command: str, env: dict | None = None) -> tuple[str, int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], env=env, capture_output=True, text=True, timeout=900
    ).stdout
    *text, rc, peak = out.rstrip("\n").rsplit("\n", 2)
    return "\n".join(text), int(rc.split()[1]), int(peak.split()[1])


def write_gzip_of_zeros(path: Path, gib: int) -> int:
    """A gzip stream of `gib` GiB of zero bytes (no newline at all): about 1 MB on disk per GiB."""
    path.parent.mkdir(parents=True, exist_ok=True)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(64 << 20)
    with open(path, "wb") as fh:
        for _ in range(gib * 16):
            fh.write(squeeze.compress(block))
        fh.write(squeeze.flush())
    return path.stat().st_size


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two contacts sent, one receipt each: the good rows the hostile files sit beside."""
    landing = tmp_path_factory.mktemp("hostile") / "landing"
    write_file(landing, "send_logs", DAY, "s.csv", send_logs_csv([
        "e1,2026-11-03T08:00:00Z,L1,C1,c1,0612345678,,accepted,p,m1,1",
        "e2,2026-11-03T08:00:00Z,L1,C1,c2,0612345679,,accepted,p,m2,1",
    ]))  # fmt: skip
    receipt = {"received_at": "2026-11-03T08:02:00Z", "provider": "p", "provider_message_id": "m1",
               "stat": "DELIVRD", "err": "000", "done_at": "2026-11-03T08:01:00Z"}  # fmt: skip
    write_file(landing, "dlrs", DAY, "good.jsonl", jsonl([receipt, receipt | {"provider_message_id": "m2"}]))
    return landing


@pytest.mark.slow
def test_a_gzip_bomb_is_quarantined_and_the_run_goes_on_in_bounded_memory(
    small_landing: Path, tmp_path: Path
) -> None:
    """3 MB on disk, 3 GiB of zeros inflated: one line far over the limit, quarantined with its file
    named, while the good receipts beside it are published; no process of the run nears 2 GiB."""
    size = write_gzip_of_zeros(small_landing / "dlrs" / f"date={DAY}" / "bomb.jsonl.gz", 3)
    assert size < 4_000_000
    env = clean_env(SMS_DATA_DIR=str(tmp_path), SMS_LANDING_DIR=str(small_landing))
    out, rc, peak = _with_peak(CLI, "run", env=env)
    assert rc == 0, out[-3000:]
    assert peak < PEAK_LIMIT_MIB, f"a run over a gzip bomb peaked at {peak:,} MiB"
    named = [line for line in out.splitlines() if line.strip().startswith(f"dlrs/date={DAY}/bomb.jsonl.gz")]
    assert named and "line of 3,221,225,472 bytes is longer than the 1,048,576-byte limit" in named[0], out
    with duckdb.connect(str(tmp_path / "warehouse" / "sms.duckdb"), read_only=True) as con:
        statuses = con.execute("select contact_id, reached_status from marts.fct_launch_contacts order by 1")
        assert statuses.fetchall() == [("c1", "delivery_successful"), ("c2", "delivery_successful")]
        quarantined = con.execute(
            "select file, line, length(raw) from read_parquet(?) where file like '%bomb%'",
            [str(tmp_path / "lake" / "_quarantine" / "dlrs" / f"date={DAY}" / "*.parquet")],
        ).fetchall()
    assert quarantined == [(f"dlrs/date={DAY}/bomb.jsonl.gz", 1, 2000)]  # only the line's first characters


_READ_PARTITION = """
import json, sys
from pathlib import Path
from ingestion.ingest import ingest_partition
result = ingest_partition(Path(sys.argv[1]), "dlrs", sys.argv[2])
print(json.dumps({"kept": result.rows["provider_message_id"].to_list(),
                  "lines": result.rows["_source_line"].to_list(),
                  "quarantine": result.quarantine.select("line", "reason").rows(),
                  "files": result.files.select("rows_read", "rows_kept", "quarantined").rows()}))
"""


@pytest.mark.unit
def test_a_line_of_gigabytes_is_skipped_to_its_end_in_bounded_memory(tmp_path: Path) -> None:
    """A plain file whose second line is 3 GiB long (a sparse file: no disk used): lines 1 and 3 are
    kept with their numbers, line 2 is quarantined with its length, and the reader stays small."""
    receipt = {"received_at": "2026-11-03T08:02:00Z", "provider": "p", "provider_message_id": "m1",
               "stat": "DELIVRD", "err": "000", "done_at": "2026-11-03T08:01:00Z"}  # fmt: skip
    first = (json.dumps(receipt) + "\n").encode()
    last = (json.dumps(receipt | {"provider_message_id": "m3"}) + "\n").encode()
    path = tmp_path / "landing" / "dlrs" / f"date={DAY}" / "huge.jsonl"
    path.parent.mkdir(parents=True)
    with open(path, "wb") as fh:
        fh.write(first)
        fh.seek(len(first) + 3 * GIB)  # a hole: 3 GiB of zero bytes that take no disk
        fh.write(b"\n" + last)
    out, rc, peak = _with_peak(sys.executable, "-c", _READ_PARTITION, str(tmp_path / "landing"), DAY)
    assert rc == 0, out[-3000:]
    read = json.loads(out.strip().splitlines()[-1])
    assert read["kept"] == ["m1", "m3"] and read["lines"] == [1, 3]
    assert read["quarantine"] == [[2, "line of 3,221,225,472 bytes is longer than the 1,048,576-byte limit"]]
    assert read["files"] == [[3, 2, 1]]  # read = kept + quarantined
    assert peak < PEAK_LIMIT_MIB, f"reading a line of 3 GiB peaked at {peak:,} MiB"


_INGEST_INTO_LAKE = """
import json, sys
from pathlib import Path
from ingestion.ingest import ingest_file
from ingestion.lake import write_part
from ingestion.spill import parse_size
folder, lake, limit = Path(sys.argv[1]), Path(sys.argv[2]), parse_size(sys.argv[4])
done = []
for path in sorted(folder.iterdir()):
    with ingest_file(path, "send_logs", sys.argv[3], scratch=lake / "_scratch", memory_limit=limit) as result:
        write_part(lake, "send_logs", sys.argv[3], path.name, result)
        done.append([type(result.rows).__name__ == "LazyFrame",
                     *result.accounting.select("rows_read", "rows_kept", "duplicates").row(0)])
print(json.dumps(done))
"""


@pytest.mark.unit
def test_a_day_larger_than_the_memory_limit_spills_and_its_peak_stays_flat(tmp_path: Path) -> None:
    """A file of 2.75M send-log rows repeating 250,000 event ids of its own: about 450 MB of
    typed rows against a 64 MB limit. It spills, keeps each event once (2.5M rows) and stays far
    below the same file held in memory. A second file of the day repeating 250,000 events of the
    first keeps them in its own part (the marts count each event once, as across days)."""
    import polars as pl

    def send_logs(first: int, count: int) -> pl.DataFrame:
        i = pl.int_range(first, first + count, eager=True).cast(pl.String)
        return pl.DataFrame({"event_id": "e" + i}).with_columns(
            logged_at=pl.lit("2026-11-03T08:00:00Z"), launch_id=pl.lit("L1"), campaign_id=pl.lit("C1"),
            contact_id="c" + i, phone=pl.lit("0612345678"), filter_reason=pl.lit(None, pl.String),
            submit_result=pl.lit("accepted"), provider=pl.lit("p"), provider_message_id="m" + i,
            segments=pl.lit(1),
        )  # fmt: skip

    folder = tmp_path / "landing" / "send_logs" / f"date={DAY}"
    folder.mkdir(parents=True)
    pl.concat([send_logs(0, 2_500_000), send_logs(2_250_000, 250_000)]).write_csv(folder / "a.csv")
    send_logs(2_250_000, 500_000).write_csv(folder / "b.csv")  # e2250000..e2499999 are in a.csv
    runs = {}
    for limit in ("64MB", "100GB"):  # the setting SMS_INGEST_MEMORY_LIMIT
        lake = tmp_path / f"lake-{limit}"
        out, rc, peak = _with_peak(sys.executable, "-c", _INGEST_INTO_LAKE, str(folder), str(lake),
                                   DAY, limit, env=clean_env())  # fmt: skip
        assert rc == 0, out[-3000:]
        runs[limit] = (json.loads(out.strip().splitlines()[-1]), peak, lake)
    (spilled, peak, lake), (held, held_peak, _) = runs["64MB"], runs["100GB"]
    # (spilled, read, kept, repeats): a.csv past the limit, b.csv under it
    assert spilled == [[True, 2_750_000, 2_500_000, 250_000], [False, 500_000, 500_000, 0]]
    assert held == [[False, *spilled[0][1:]], [False, *spilled[1][1:]]]
    with duckdb.connect() as con:
        written = con.execute(
            f"select count(*), count(distinct event_id) from '{lake}/send_logs/*/*.parquet'"
        )
        assert written.fetchone() == (3_000_000, 2_750_000)
    assert not any((lake / "_scratch").rglob("*.parquet"))
    assert peak < 1024 and peak < 0.75 * held_peak, f"spilled {peak:,} MiB, held in memory {held_peak:,} MiB"
