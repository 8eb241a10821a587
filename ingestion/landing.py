"""What the landing zone holds: its feeds, their arrival days and files, and what is not read and why.

The landing tree is checked, not trusted. `survey()` walks it once and returns the
files the warehouse reads (`landing/<feed>/date=YYYY-MM-DD/<file>`, regular files or
links to regular files inside the landing zone) and, for everything else, a problem
naming the path: a folder that is not a feed, a day folder whose name is not a real
date, an entry that is not a regular file (a folder, a FIFO, a socket), a link that
leads outside the landing zone (never followed). A producer's work files (`*.tmp`,
hidden names) are neither read nor reported: they become files when renamed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.feeds import FEEDS

_DAY = re.compile(r"date=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class LandingFile:
    """A file the warehouse reads: where it is, and its size and modification time (what says
    whether it changed)."""

    feed: str
    day: str
    path: Path
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def relative(self) -> str:
        """`<feed>/date=<day>/<name>`: how the warehouse names the file everywhere."""
        return f"{self.feed}/date={self.day}/{self.name}"


@dataclass
class Survey:
    """The landing zone as one walk found it."""

    files: dict[str, dict[str, list[LandingFile]]] = field(default_factory=dict)  # feed -> day -> files
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path under the root, what is wrong)

    def days(self, feed: str) -> list[str]:
        """The arrival days of a feed that have a folder (empty or not), in order."""
        return sorted(self.files.get(feed, {}))

    def files_of(self, feed: str, day: str) -> list[LandingFile]:
        return self.files.get(feed, {}).get(day, [])

    def problems_of(self, feed: str) -> list[tuple[str, str]]:
        """The problems found inside one feed's folder."""
        return [(path, why) for path, why in self.problems if path.startswith(f"{feed}/")]

    def outside_feeds(self) -> list[tuple[str, str]]:
        """The problems found beside the feeds' folders (a folder or file that is no feed)."""
        return [(path, why) for path, why in self.problems if path.split("/", 1)[0] not in FEEDS]


def is_work_file(name: str) -> bool:
    """A producer's file not finished yet (`*.tmp`) or a hidden one: not read, not reported."""
    return name.startswith(".") or name.endswith(".tmp")


def arrival_day(folder_name: str) -> str | None:
    """The day of a `date=YYYY-MM-DD` folder, when it is a real date; None otherwise."""
    found = _DAY.fullmatch(folder_name)
    if not found:
        return None
    try:
        dt.date.fromisoformat(found.group(1))
    except ValueError:
        return None
    return found.group(1)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as found:
            return sorted(found, key=lambda entry: entry.name)
    except OSError:
        return []


def _file(root: Path, entry: os.DirEntry) -> tuple[os.stat_result | None, str | None]:
    """The stat of a landing file to read, or why it is not read."""
    try:
        if entry.is_symlink():
            target = Path(entry.path).resolve()
            if not target.is_relative_to(root):
                return None, f"a link to {target}, outside the landing zone: not followed"
        st = os.stat(entry.path)  # follows a link inside the landing zone
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(st.st_mode):
        return None, f"{_kind(st.st_mode)}, not a file: not read"
    return st, None


def survey(landing: Path) -> Survey:
    """Walk the landing zone once (see the module's docstring)."""
    root = landing.resolve()
    found = Survey()
    for top in _entries(root):
        if is_work_file(top.name):
            continue
        if top.name not in FEEDS:
            what = "folder" if top.is_dir() else "file"
            found.problems.append(
                (top.name, f"a {what} that is no feed (feeds: {', '.join(FEEDS)}): not read")
            )
            continue
        feed = top.name
        found.files[feed] = {}
        for folder in _entries(Path(top.path)):
            rel = f"{feed}/{folder.name}"
            if is_work_file(folder.name):
                continue
            day = arrival_day(folder.name)
            if folder.is_symlink():
                found.problems.append((rel, "a link, not an arrival-day folder: not followed"))
                continue
            if day is None or not folder.is_dir():
                why = "not an arrival-day folder (date=YYYY-MM-DD, a real date)"
                found.problems.append((rel, f"{why}: not read"))
                continue
            files = found.files[feed].setdefault(day, [])
            for entry in _entries(Path(folder.path)):
                if is_work_file(entry.name):
                    continue
                st, problem = _file(root, entry)
                if problem:
                    found.problems.append((f"{rel}/{entry.name}", problem))
                    continue
                assert st is not None
                files.append(LandingFile(feed, day, Path(entry.path), st.st_size, st.st_mtime_ns))
    return found
