"""The Parquet lake: one part per landing file, in its feed's arrival-day folder, written atomically.

```
lake/<feed>/date=YYYY-MM-DD/part-<key>.parquet     one landing file's typed rows (its repeats removed)
lake/<feed>/date=YYYY-MM-DD/_accepted.json         the day's landing files the lake holds and has checked
lake/<feed>/_empty.parquet                         the feed's schema, so a feed with no data still reads
lake/_quarantine/<feed>/date=…/part-<key>.parquet  the file's rows that could not be ingested (file, line, reason)
lake/_files/<feed>/date=…/part-<key>.parquet       the file's accounting: read = kept + duplicates + quarantined
lake/_scratch/                                     a large file's rows while they are de-duplicated
```

`<key>` is a digest of the landing file's name (`<feed>/date=<day>/<name>`): a file's
part is replaced when the file changes and removed when it goes, and no other file's
part is touched. `_accepted.json` records, per landing file, what it was when
ingested (its fingerprint) and what its part is (size and modification time): it is
written only after the part's blocking checks passed, so a file whose part is missing,
damaged or unchecked is ingested again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import polars as pl

from ingestion.atomic import write_parquet_atomically as write_atomically
from ingestion.atomic import write_text_atomically
from ingestion.feeds import FEEDS
from ingestion.ingest import FILES_SCHEMA, QUARANTINE_SCHEMA, FileResult, output_schema

QUARANTINE = "_quarantine"
FILES = "_files"
PHONES = "_phones"
SCRATCH = "_scratch"  # files too large for memory spill here while they are ingested
ACCEPTED = "_accepted.json"

Stat = list[int]  # [size, modification time in ns] of a lake part


def phone_cache(lake: Path, region: str) -> Path:
    """The lake's memo of raw number → E.164 for one default region."""
    return lake / PHONES / f"region={region}.parquet"


def day_folder(lake: Path, feed: str, day: str, kind: str | None = None) -> Path:
    """One arrival day's folder of a feed (or of its quarantine or accounting, with `kind`)."""
    base = lake / kind / feed if kind else lake / feed
    return base / f"date={day}"


def part_path(lake: Path, feed: str, day: str, name: str, kind: str | None = None) -> Path:
    """Where the part of the landing file `name` (of `feed`, arrival day `day`) lives."""
    key = hashlib.sha256(f"{feed}/date={day}/{name}".encode()).hexdigest()[:16]
    return day_folder(lake, feed, day, kind) / f"part-{key}.parquet"


def part_stat(path: Path) -> Stat | None:
    """A part's size and modification time (None: it is not there)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def readable(path: Path) -> bool:
    """Whether a part's Parquet footer can be read (what a damaged part fails first)."""
    try:
        pl.read_parquet_schema(path)
    except Exception:  # noqa: BLE001 - any failure to read it is damage
        return False
    return True


def scratch_dir(lake: Path) -> Path:
    """Where a file past the memory limit spills: beside the lake, on its disk, not in RAM."""
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


def write_part(lake: Path, feed: str, day: str, name: str, result: FileResult) -> Stat:
    """Replace one landing file's part exactly: its rows, its quarantine, its accounting; returns
    the rows part's size and time, for `accept`."""
    ensure_schemas(lake)
    write_atomically(result.quarantine, part_path(lake, feed, day, name, QUARANTINE))
    write_atomically(result.accounting, part_path(lake, feed, day, name, FILES))
    rows = part_path(lake, feed, day, name)
    write_atomically(result.rows, rows)
    stat = part_stat(rows)
    assert stat is not None
    return stat


def remove_part(lake: Path, feed: str, day: str, name: str | None = None, part: Path | None = None) -> None:
    """Remove one landing file's part (its rows, quarantine and accounting), by the landing file's
    `name` (then it is forgotten too) or by the `part`'s path; an emptied day leaves no folder."""
    part = part or part_path(lake, feed, day, str(name))
    for kind in (None, QUARANTINE, FILES):
        (day_folder(lake, feed, day, kind) / part.name).unlink(missing_ok=True)
    if name is not None:
        accept(lake, feed, day, {name: None})
    for kind in (None, QUARANTINE, FILES):
        folder = day_folder(lake, feed, day, kind)
        if folder.is_dir() and not any(p for p in folder.iterdir() if p.name != ACCEPTED):
            (folder / ACCEPTED).unlink(missing_ok=True)
            folder.rmdir()


def accepted(lake: Path, feed: str, day: str) -> dict[str, dict]:
    """The landing files of one day the lake holds and has checked: name → {"fingerprint", "part"}."""
    try:
        return json.loads((day_folder(lake, feed, day) / ACCEPTED).read_text())
    except (OSError, ValueError):
        return {}


def accept(lake: Path, feed: str, day: str, entries: dict[str, dict | None]) -> None:
    """Record landing files as held and checked (an entry), or not any more (None)."""
    held = accepted(lake, feed, day) | entries
    held = {name: entry for name, entry in sorted(held.items()) if entry is not None}
    folder = day_folder(lake, feed, day)
    if held or folder.is_dir():
        write_text_atomically(json.dumps(held, indent=1), folder / ACCEPTED)


def days(lake: Path, feed: str) -> list[str]:
    """The arrival days of a feed the lake has a folder for."""
    root = lake / feed
    return (
        sorted(p.name.removeprefix("date=") for p in root.glob("date=*") if p.is_dir())
        if root.is_dir()
        else []
    )


def parts(lake: Path, feed: str, day: str) -> list[Path]:
    """The rows parts of one day of a feed."""
    folder = day_folder(lake, feed, day)
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
