"""Which landing files changed since the lake accepted them: the one rule every run uses.

A landing file's fingerprint is its name, size and modification time, plus what else
decides its lake rows: the ingestion version and, for feeds with phone numbers, the
default region. The lake records it beside the file's part once the part passed its
blocking checks (`ingestion/lake.py`). A file is to be ingested when it is new, when
its fingerprint changed, or when its part is missing or not what was written (damaged);
a part is to be dropped when its landing file is gone. `landing_changes` is what the
CLI, the schedule and the landing sensor call to decide what a run ingests: a run
costs what arrived, not what is kept.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ingestion import lake as lakes
from ingestion.feeds import FEEDS
from ingestion.landing import LandingFile, Survey, survey

INGEST_VERSION = "3"  # bump when ingestion changes what it writes, to ingest every file again


def fingerprint(file: LandingFile, region: str) -> str:
    """A digest of what decides a landing file's lake rows (see the module's docstring)."""
    region_used = region if FEEDS[file.feed].phone_columns else None
    facts = [INGEST_VERSION, region_used, file.name, file.size, file.mtime_ns]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DayChanges:
    """What one arrival day of one feed needs: files to ingest, parts to drop."""

    ingest: list[LandingFile] = field(default_factory=list)  # new, changed, or their part missing or damaged
    drop: list[str] = field(default_factory=list)  # names accepted whose landing file is gone
    strays: list[Path] = field(default_factory=list)  # parts never accepted whose landing file is gone
    replaced: list[str] = field(default_factory=list)  # names of `ingest` whose earlier rows leave the lake

    def __bool__(self) -> bool:
        return bool(self.ingest or self.drop or self.strays)


def day_changes(
    lake: Path, feed: str, day: str, files: list[LandingFile], region: str, verify: bool = False
) -> DayChanges:
    """What changed in one arrival day of one feed since the lake accepted it; with `verify`, a
    part whose Parquet footer cannot be read counts as damaged even when its size and time match."""
    held = lakes.accepted(lake, feed, day)
    ingest, replaced = [], []
    for file in files:
        entry = held.get(file.name)
        path = lakes.part_path(lake, feed, day, file.name)
        part = lakes.part_stat(path)
        intact = entry is not None and entry["part"] == part and (not verify or lakes.readable(path))
        if intact and entry["fingerprint"] == fingerprint(file, region):
            continue
        ingest.append(file)
        if entry is not None or part is not None:  # rows of it were in the lake (maybe built on)
            replaced.append(file.name)
    present = {file.name for file in files}
    drop = sorted(name for name in held if name not in present)
    # a part written but never accepted (its checks failed) whose landing file is gone
    known = {lakes.part_path(lake, feed, day, name) for name in present | held.keys()}
    strays = [part for part in lakes.parts(lake, feed, day) if part not in known]
    return DayChanges(ingest, drop, strays, replaced)


@dataclass(frozen=True)
class LandingChanges:
    """What the landing zone holds that the lake has not accepted, per feed and arrival day."""

    survey: Survey
    touched: dict[str, dict[str, DayChanges]]  # feed -> day -> its changes (days with changes only)

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
        """Every arrival day that has a folder in the landing zone (or parts to let go of)."""
        return sorted({day for feed in FEEDS for day in self.survey.days(feed)} | set(self.touched_days))


def landing_files(found: Survey) -> dict[str, list[int]]:
    """Every file the warehouse reads (`<feed>/date=<day>/<name>`), with its size and modification time."""
    return {
        f.relative: [f.size, f.mtime_ns]
        for days in found.files.values()
        for files in days.values()
        for f in files
    }


def changed_files(before: dict[str, list[int]], now: dict[str, list[int]]) -> list[str]:
    """The files that are new, changed (another size or modification time) or gone since `before`."""
    return sorted(path for path in before.keys() | now.keys() if before.get(path) != now.get(path))


def landing_changes(
    landing: Path, lake: Path, region: str, found: Survey | None = None, verify: bool = False
) -> LandingChanges:
    """Per feed and arrival day, the landing files to ingest and the lake parts to let go of
    (`found`: the landing zone's survey, when the caller has one already; `verify`: read every
    part's footer, as a full refresh does, to find damage that kept a part's size and time)."""
    found = found if found is not None else survey(landing)
    touched: dict[str, dict[str, DayChanges]] = {}
    for feed in FEEDS:
        for day in sorted(set(found.days(feed)) | set(lakes.days(lake, feed))):
            changes = day_changes(lake, feed, day, found.files_of(feed, day), region, verify)
            if changes:
                touched.setdefault(feed, {})[day] = changes
    return LandingChanges(found, touched)
