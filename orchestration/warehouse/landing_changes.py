"""Which landing partitions changed since the lake last accepted them: the one rule every run uses.

A partition's fingerprint is the name, size and modification time of each of its
files (plus what else decides the lake's rows: the ingestion version and, for
feeds with phone numbers, the default region). It is stored beside the lake
partition once that partition is written and its blocking checks pass, so the
next run skips what the lake already has and costs in proportion to what is new.
`landing_changes` is what the CLI, the schedule and the landing sensor call to
decide what a run ingests.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ingestion.atomic import write_text_atomically
from ingestion.feeds import FEEDS
from ingestion.ingest import landing_partitions, partition_files
from ingestion.lake import partition_path

INGEST_VERSION = "2"  # bump when ingestion changes what it writes, to re-ingest everything


def landing_fingerprint(landing: Path, feed: str, day: str, region: str) -> str:
    """A digest of the partition's files (name, size, mtime), the ingestion version and, for feeds
    with phone numbers, the default region they are normalised with."""
    stats = [(p.name, p.stat()) for p in partition_files(landing, feed, day)]
    items = [(name, st.st_size, st.st_mtime_ns) for name, st in stats]
    region_used = region if FEEDS[feed].phone_columns else None
    return hashlib.sha256(json.dumps([INGEST_VERSION, region_used, items]).encode()).hexdigest()[:16]


def _marker(lake: Path, feed: str, day: str) -> Path:
    return partition_path(lake, feed, day).with_name("_fingerprint.json")


def stored(lake: Path, feed: str, day: str) -> str | None:
    """The fingerprint of what the lake holds for this partition (None when it holds nothing known)."""
    marker = _marker(lake, feed, day)
    if not marker.exists() or not partition_path(lake, feed, day).exists():
        return None
    try:
        return json.loads(marker.read_text())["fingerprint"]
    except (ValueError, KeyError):
        return None


def record(lake: Path, feed: str, day: str, fingerprint: str) -> None:
    """Remember what was ingested, written after the partition itself (so a crash re-ingests)."""
    write_text_atomically(json.dumps({"fingerprint": fingerprint}), _marker(lake, feed, day))


def unaccepted(lake: Path, feed: str) -> list[str]:
    """Days the lake holds for a feed without a fingerprint: written, but their checks never passed."""
    root = lake / feed
    if not root.is_dir():
        return []
    return sorted(
        folder.name.removeprefix("date=")
        for folder in root.glob("date=*")
        if (folder / "data.parquet").exists() and not (folder / "_fingerprint.json").exists()
    )


def abandoned(lake: Path, landing: Path, feed: str) -> list[str]:
    """Unaccepted days of a feed whose landing folder is gone: nothing will ever ingest them again."""
    return [d for d in unaccepted(lake, feed) if not (landing / feed / f"date={d}").is_dir()]


def changed(lake: Path, landing: Path, feed: str, days: list[str], region: str) -> dict[str, str]:
    """The days whose landing files are not what the lake holds and has accepted, with their
    fingerprints now (to record once they are ingested and accepted)."""
    marks = {day: landing_fingerprint(landing, feed, day, region) for day in days}
    return {day: mark for day, mark in marks.items() if stored(lake, feed, day) != mark}


@dataclass(frozen=True)
class LandingChanges:
    """What the landing zone holds that the lake has not accepted, per feed."""

    days: dict[str, list[str]]  # every arrival day in the landing zone
    touched: dict[str, list[str]]  # days to ingest (new or changed files) or to let go of (abandoned)

    @property
    def feeds(self) -> list[str]:
        """The feeds a run has to materialise, in the order of their declaration."""
        return [feed for feed in FEEDS if self.touched.get(feed)]

    @property
    def touched_days(self) -> list[str]:
        """Every arrival day some feed has to ingest or let go of."""
        return sorted({day for days in self.touched.values() for day in days})

    @property
    def arrival_days(self) -> list[str]:
        """Every arrival day that has a folder in the landing zone (or one to let go of)."""
        return sorted({day for days in (*self.days.values(), *self.touched.values()) for day in days})


def landing_files(landing: Path) -> dict[str, list[int]]:
    """Every finished file of the landing zone (`<feed>/date=<day>/<name>`, producers' `.tmp` files
    left out), with its size and modification time."""
    files: dict[str, list[int]] = {}
    for feed, days in landing_partitions(landing).items():
        for day in days:
            for path in partition_files(landing, feed, day):
                st = path.stat()
                files[f"{feed}/date={day}/{path.name}"] = [st.st_size, st.st_mtime_ns]
    return files


def changed_files(before: dict[str, list[int]], now: dict[str, list[int]]) -> list[str]:
    """The files that are new, changed (another size or modification time) or gone since `before`."""
    return sorted(path for path in before.keys() | now.keys() if before.get(path) != now.get(path))


def landing_changes(landing: Path, lake: Path, region: str) -> LandingChanges:
    """Per feed, the arrival days whose landing files changed since the lake accepted them, and the
    failed days whose landing folder was removed (the run lets go of their lake partitions).

    A run materialises only these: an unchanged partition is not ingested, checked or
    recorded again, so a run after one more day costs that day, not the history.
    """
    days = landing_partitions(landing)
    touched = {
        feed: sorted([*changed(lake, landing, feed, feed_days, region), *abandoned(lake, landing, feed)])
        for feed, feed_days in days.items()
    }
    return LandingChanges(days, {feed: found for feed, found in touched.items() if found})
