"""The Parquet lake: one file per feed and arrival day, replaced atomically.

```
lake/<feed>/date=YYYY-MM-DD/data.parquet     typed, de-duplicated rows
lake/<feed>/_empty.parquet                   the feed's schema, so a feed with no data still reads
lake/_quarantine/<feed>/date=…/data.parquet  rows that could not be ingested, with file, line, reason
lake/_files/<feed>/date=…/data.parquet       per-file accounting: read = kept + duplicates + quarantined
lake/_scratch/                               a large partition's rows while it is de-duplicated
```
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from ingestion.atomic import write_parquet_atomically as write_atomically
from ingestion.feeds import FEEDS
from ingestion.ingest import FILES_SCHEMA, QUARANTINE_SCHEMA, PartitionResult, output_schema

QUARANTINE = "_quarantine"
FILES = "_files"
PHONES = "_phones"
SCRATCH = "_scratch"  # partitions too large for memory spill here while they are ingested


def phone_cache(lake: Path, region: str) -> Path:
    """The lake's memo of raw number → E.164 for one default region."""
    return lake / PHONES / f"region={region}.parquet"


def partition_path(lake: Path, feed: str, day: str, kind: str | None = None) -> Path:
    """Where one partition's data (or its quarantine/accounting, with `kind`) lives."""
    base = lake / kind / feed if kind else lake / feed
    return base / f"date={day}" / "data.parquet"


def scratch_dir(lake: Path) -> Path:
    """Where a partition past the memory limit spills: beside the lake, on its disk, not in RAM."""
    return lake / SCRATCH


def clear_scratch(lake: Path) -> None:
    """Remove what a run stopped while it spilled left behind (call only while no one ingests)."""
    shutil.rmtree(scratch_dir(lake), ignore_errors=True)


def ensure_schemas(lake: Path) -> None:
    """Write each feed's empty schema file, so readers of a feed with no data yet still work."""
    for feed in FEEDS.values():
        targets = {
            lake / feed.name / "_empty.parquet": pl.DataFrame(schema=output_schema(feed)),
            lake / QUARANTINE / feed.name / "_empty.parquet": pl.DataFrame(schema=QUARANTINE_SCHEMA),
            lake / FILES / feed.name / "_empty.parquet": pl.DataFrame(schema=FILES_SCHEMA),
        }
        for path, frame in targets.items():
            if not path.exists():
                write_atomically(frame, path)


def write_partition(lake: Path, feed: str, day: str, result: PartitionResult) -> None:
    """Replace one partition exactly: rows, quarantine and accounting."""
    ensure_schemas(lake)
    write_atomically(result.rows, partition_path(lake, feed, day))
    write_atomically(result.quarantine, partition_path(lake, feed, day, QUARANTINE))
    write_atomically(result.files, partition_path(lake, feed, day, FILES))


def remove_partition(lake: Path, feed: str, day: str) -> None:
    """Remove one partition's data, quarantine and accounting (each file disappears atomically)."""
    for kind in (None, QUARANTINE, FILES):
        path = partition_path(lake, feed, day, kind)
        path.unlink(missing_ok=True)
        for leftover in path.parent.glob("*"):  # the fingerprint marker, if any
            leftover.unlink()
        if path.parent.is_dir():
            path.parent.rmdir()
