"""Whether the next dbt build may merge only what is new, or must rebuild from the whole lake.

The models are incremental (see `dbt_project/macros/incremental.sql`): a build
recomputes the contacts and messages touched by rows ingested since the last
build. That is exact as long as the lake only grew by new rows and the rules did
not change. A full rebuild (`dbt build --full-refresh`) is asked for when:

- the dbt project changed (models, seeds such as the permanent-error list, macros,
  variables): old rows must be decided again under the new rules;
- a lake partition that had been ingested was ingested again (a file added to or
  changed in an old arrival day) or removed: rows may have gone as well as come;
- the lake is not the one the marts were last built from (wiped, or pointed elsewhere);
- the last build did not finish (a dbt test failed, the run was stopped): the tests of
  an incremental build look only at the keys it wrote (the `stamp` of
  `unique_combination`), which holds only if every earlier build passed them;
- the user asked (`sms-warehouse run --full-refresh`).

State lives in two small files: `lake/_state/` (the lake's id, the pending-rebuild
note written by ingestion) and `<build db>.state.json` (what the last successful
build saw). Both are written atomically and only after the work they describe, so
a crash at any point leads at worst to a rebuild that was not needed.

Ingestion and the dbt build take turns on the lake (`lake_turn`): a build stamps
its rows with its start time, so it must not run while a partition is being
written, or those rows could be missed by this build and the next.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from ingestion.atomic import write_text_atomically
from orchestration.paths import DBT_PROJECT_DIR, Paths, dbt_project_files


def _state_dir(lake: Path) -> Path:
    return lake / "_state"


def lake_id(lake: Path) -> str:
    """A random id given to a lake when it is first used, so the marts know which lake they reflect."""
    path = _state_dir(lake) / "lake_id"
    if not path.exists():
        write_text_atomically(uuid.uuid4().hex, path)
    return path.read_text().strip()


def note_lake_change(lake: Path, change: str) -> None:
    """Called before rows may leave the lake (a partition replaced or removed): the next build is a full one."""
    path = _state_dir(lake) / "rebuild_needed"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        handle.write(change.replace("\n", " ") + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def project_digest(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """A digest of everything in the dbt project that decides what the marts say."""
    digest = hashlib.sha256()
    for path in dbt_project_files(project_dir):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _build_state(paths: Paths) -> Path:
    return paths.build_db.with_name(paths.build_db.name + ".state.json")


def reasons(paths: Paths, asked: bool = False) -> list[str]:
    """Why the next build must start from the whole lake; empty when it may be incremental."""
    if asked:
        return ["a full refresh was asked for"]
    if not paths.build_db.exists():
        return ["first build"]
    try:
        last = json.loads(_build_state(paths).read_text())
    except (OSError, ValueError):
        return ["no record of the last build"]
    found = []
    if last.get("unfinished"):
        found.append("the last build did not finish")
    if last.get("project") != project_digest():
        found.append("the dbt project changed (models, seeds, macros or variables)")
    if last.get("lake_id") != lake_id(paths.lake):
        found.append("the lake is not the one the marts were built from")
    note = _state_dir(paths.lake) / "rebuild_needed"
    changes = note.read_text().splitlines() if note.exists() else []
    if changes:
        found.append(changes[0] + (f" (and {len(changes) - 1} more)" if len(changes) > 1 else ""))
    return found


def begin_build(paths: Paths) -> None:
    """Before a build writes: until `record_build`, the next build must be a full one."""
    state = _build_state(paths)
    try:
        last = json.loads(state.read_text())
    except (OSError, ValueError):
        return  # no record: the next build is a full one anyway
    write_text_atomically(json.dumps({**last, "unfinished": True}), state)


def forget_failed_build(paths: Paths) -> list[Path]:
    """After a build that failed (a full disk, a killed dbt): remove what DuckDB left beside the
    build database (its write-ahead log, its spill folder); returns what was removed. The next
    build is a full one (`begin_build`), so nothing in them is needed."""
    build_db = paths.build_db
    left = [p for p in (build_db.with_name(build_db.name + ".wal"), build_db.with_name(build_db.name + ".tmp"))
            if p.exists()]  # fmt: skip
    for path in left:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    return left


def record_build(paths: Paths) -> None:
    """After a successful build: remember what it saw, and clear the pending-rebuild note."""
    state = {"project": project_digest(), "lake_id": lake_id(paths.lake)}
    write_text_atomically(json.dumps(state), _build_state(paths))
    (_state_dir(paths.lake) / "rebuild_needed").unlink(missing_ok=True)


@contextlib.contextmanager
def lake_turn(lake: Path) -> Iterator[None]:
    """Hold the lake and the build database: for writing partitions, for a dbt build, for reading
    the build database (the mart checks, staging the publish); waits while another run holds them.

    An advisory lock on `lake/_state/lock`, released when the process ends, even by a crash.
    """
    path = _state_dir(lake) / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
