"""Publish the marts to the DuckDB file BI tools read, atomically.

dbt builds into a separate working database. Only after the whole build and its
blocking checks pass are the `marts` and `audit` schemas copied into a new file,
which is renamed over the published one. A reader that already has the file
open keeps the previous complete version; the next connection sees the new one.
Columns whose name starts with `_` are the build's bookkeeping (`_watermark`) and
are not published.

The contacts table grows with history while a run after one more day changes few
of its rows. When the published file is known to hold the build as it was at
some `_watermark` (recorded beside it at each publish), the new file is a copy of
the published one in which only the contacts written since then are replaced,
and the small tables copied whole: the same tables a full copy gives, at the cost
of the rows that changed. Any doubt (no record, another build database, most rows
rewritten by a full rebuild) means a full copy. When no contact changed at all, the
contacts' Parquet file of the published build is linked into the new one, not written again.

Writing the new file and putting it in place are two steps (`stage`, `commit`):
the mart checks stage it while GX validates (the file is not published: it waits
beside the published one under a dot-name), and publishing then only renames it,
if it was made from the very build database and published file that are there now.

The file is written in a storage format DuckDB 1.x clients read (the setting
`publish_storage_version`, default `v1.4.0`; `latest` for DuckDB's newest), so that BI
drivers of the 1.x line open it. Every published table is also written as
Parquet, `parquet/<schema>/<table>.parquet` beside the file, for tools that do not
speak DuckDB: `parquet` is a link to one build's folder, replaced atomically at
commit, so a reader sees one build's tables, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.atomic import file_version, put_in_place, write_text_atomically
from orchestration.paths import parquet_folder

PUBLISHED_SCHEMAS = ("marts", "audit")
# the table that grows with history: keyed by contact, each row stamped by the build that wrote it
CONTACTS, CONTACT_KEY = "marts.fct_launch_contacts", ("launch_id", "contact_id")
_FULL_COPY_FROM = 0.5  # share of contacts rewritten from which a full copy is cheaper
DEFAULT_STORAGE_VERSION = "v1.4.0"  # the oldest format DuckDB 1.x clients (1.4, 1.5) read


def storage_version(setting: str = DEFAULT_STORAGE_VERSION) -> str | None:
    """The DuckDB storage format a setting names (None: DuckDB's newest, `latest`)."""
    return None if setting.strip().lower() == "latest" else setting.strip()


def _parquet_builds(published: Path) -> Path:
    return published.parent / ".parquet"


def state_path(published: Path) -> Path:
    """What the published file holds: the build database and the contacts' latest `_watermark`."""
    return published.with_name(published.name + ".state.json")


@dataclass(frozen=True)
class Published:
    """What a publish put in place: rows per table, whether the file was staged beforehand, and why
    the published file was written whole again when it was damaged (None: it was not)."""

    counts: dict[str, int]
    was_staged: bool
    repaired: str | None = None


def publish(build_db: Path, published: Path, storage: str = DEFAULT_STORAGE_VERSION) -> Published:
    """Copy the published schemas of `build_db` into `published`, in the DuckDB storage format
    `storage` names.

    A file staged from this same build database and published file (while the mart checks
    ran) is put in place as it is; otherwise one is written now.
    """
    staged = take_staged(build_db, published)
    done = staged or stage(build_db, published, storage)
    return Published(commit(done), was_staged=staged is not None, repaired=done.repaired)


@dataclass
class Staged:
    """A new published file, written beside the published one but not in its place yet."""

    published: Path
    counts: dict[str, int]
    state: dict[str, str | None]  # the state file that goes with it
    repaired: str | None = None  # why the published file could not be built on (damaged), if so

    @property
    def path(self) -> Path:
        return staged_path(self.published)

    @property
    def parquet(self) -> str:
        """The folder, under `.parquet/`, of its tables as Parquet (its state names it)."""
        return str(self.state["parquet"])


def staged_path(published: Path) -> Path:
    """Where the next published file is written: a dot-file beside the published one."""
    return published.with_name(f".{published.name}.staged")


def _receipt(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _wal(database: Path) -> Path:
    """DuckDB's write-ahead log beside a database file."""
    return database.with_name(database.name + ".wal")


def _made_from(build_db: Path, published: Path) -> dict[str, list[int] | None]:
    """The files a staged file depends on, as they are now (a change to any makes it stale)."""
    return {
        "build_db": file_version(build_db),
        "build_wal": file_version(_wal(build_db)),
        "published": file_version(published),
        "published_state": file_version(state_path(published)),
    }


def stage(build_db: Path, published: Path, storage: str = DEFAULT_STORAGE_VERSION) -> Staged:
    """Write the next published file beside `published` (see `staged_path`), not in its place,
    in the DuckDB storage format `storage` names."""
    published.parent.mkdir(parents=True, exist_ok=True)
    discard(published)
    version = storage_version(storage)
    made_from = _made_from(build_db, published)
    state = _state_from(build_db, published)
    repaired = damage(published, state) if state else None
    if repaired:  # never built on: the new file is written whole from the build
        state = {}
    since, changed = _replace_since(build_db, state, version)
    path = staged_path(published)
    parquet = uuid.uuid4().hex[:12]
    try:
        if since is not None:
            shutil.copyfile(published, path)  # keeps its storage format (the state says which)
        con = duckdb.connect()
        try:
            fresh = f" (storage_version '{version}')" if version and since is None else ""
            con.execute(f"attach '{path}' as published{fresh}")
            con.execute("use published")
            con.execute(f"attach '{build_db}' as build (read_only)")
            counts = _copy_schemas(con, since)
            watermark = _latest_watermark(con, "build")
            con.execute("detach build")
            unchanged = _published_parquet(published, state) if since is not None and not changed else None
            _write_parquet(con, counts, _parquet_builds(published) / parquet, unchanged)
            con.execute("checkpoint published")
        finally:
            con.close()
        _wal(path).unlink(missing_ok=True)
        state = {
            "build_db": str(build_db),
            "watermark": watermark,
            "storage_version": version,
            "parquet": parquet,
        }
        staged = Staged(published, counts, state, repaired)
        # what it was made from, for take_staged(): a change to any of those files makes it stale
        receipt = {"made_from": made_from, "counts": counts, "state": staged.state, "repaired": repaired}
        write_text_atomically(json.dumps(receipt), _receipt(path))
    except BaseException:
        discard(published)
        raise
    return staged


def take_staged(build_db: Path, published: Path) -> Staged | None:
    """The file staged for `published`, if it was made from `build_db` and `published` as they are now."""
    try:
        receipt = json.loads(_receipt(staged_path(published)).read_text())
    except (OSError, ValueError):
        return None
    fresh = (
        receipt.get("state", {}).get("build_db") == str(build_db)
        and receipt["state"].get("parquet") is not None
        and receipt.get("made_from") == _made_from(build_db, published)
        and staged_path(published).exists()
    )
    if not fresh:
        discard(published)
        return None
    return Staged(published, receipt["counts"], receipt["state"], receipt.get("repaired"))


def commit(staged: Staged) -> dict[str, int]:
    """Put a staged file in place of the published one (fsynced, renamed), then its Parquet tables
    (the link swapped), and record what it holds."""
    put_in_place(staged.path, staged.published)
    _receipt(staged.path).unlink(missing_ok=True)
    # what the file is and holds, checked before the next publish builds on it (`damage`)
    facts = {"file": file_version(staged.published), "counts": staged.counts}
    write_text_atomically(json.dumps(staged.state | facts), state_path(staged.published))
    link = parquet_folder(staged.published)
    swap = link.with_name(f".parquet-{staged.parquet}.link")
    swap.unlink(missing_ok=True)
    os.symlink(Path(_parquet_builds(staged.published).name) / staged.parquet, swap)
    if link.is_dir() and not link.is_symlink():  # a folder of an earlier layout
        shutil.rmtree(link)
    os.replace(swap, link)
    _remove_parquet_builds(staged.published, keep=staged.parquet)
    return staged.counts


def _write_parquet(
    con: duckdb.DuckDBPyConnection, counts: dict[str, int], folder: Path, unchanged: Path | None = None
) -> None:
    """Every published table as `<folder>/<schema>/<table>.parquet` (zstd); the contacts' file is a
    hard link to `unchanged`'s when given (the published build's folder: no contact changed since).

    A table keeps no row order, so neither does its file: DuckDB writes row groups as its
    threads finish them (`preserve_order false`), none waiting for another's turn.
    """
    for name in counts:
        schema, table = name.split(".")
        (folder / schema).mkdir(parents=True, exist_ok=True)
        target = folder / schema / f"{table}.parquet"
        if name == CONTACTS and unchanged is not None:
            with contextlib.suppress(OSError):  # no such file, or no hard links here: written below
                os.link(unchanged / schema / f"{table}.parquet", target)
                continue
        con.execute(
            f"copy (select * from published.{schema}.{table}) to '{target}' (format parquet, compression zstd, compression_level 1, preserve_order false)"
        )


def _remove_parquet_builds(published: Path, keep: str | None) -> None:
    """Remove the Parquet folders of other builds (a reader that opened a file keeps reading it)."""
    builds = _parquet_builds(published)
    current = os.readlink(parquet_folder(published)) if parquet_folder(published).is_symlink() else None
    for folder in builds.glob("*") if builds.is_dir() else []:
        if folder.name != keep and (current is None or Path(current).name != folder.name):
            shutil.rmtree(folder, ignore_errors=True)
    if builds.is_dir() and not any(builds.iterdir()):
        builds.rmdir()


def discard(published: Path) -> None:
    """Remove a file staged for `published` that will not be published (checks failed, stale)."""
    path = staged_path(published)
    for leftover in (_receipt(path), path, _wal(path)):
        leftover.unlink(missing_ok=True)
    _remove_parquet_builds(published, keep=None)


def _state_from(build_db: Path, published: Path) -> dict:
    """What `published` holds, as its state file says, if it was published from `build_db` ({}: not known)."""
    try:
        state = json.loads(state_path(published).read_text())
    except (OSError, ValueError):
        return {}
    return state if published.exists() and state.get("build_db") == str(build_db) else {}


def published_watermark(build_db: Path, published: Path) -> str | None:
    """The contacts' latest `_watermark` that `published` holds, when it was published from
    `build_db` and is intact; None when not known (then it holds none of this build database's rows)."""
    state = _state_from(build_db, published)
    return None if not state or damage(published, state) else state.get("watermark")


def damage(published: Path, state: dict) -> str | None:
    """What is wrong with the published file against what its state says was published (None:
    nothing): another file or size or time (a bad copy, a full disk, an edit), a file DuckDB cannot
    open, or a table with other rows than were published. Cheap: a stat, and a count per table."""
    if state.get("file") is not None and file_version(published) != state["file"]:
        return "is not the file that was published (its size, time or inode changed)"
    try:
        with duckdb.connect(str(published), read_only=True) as con:
            for name, rows in (state.get("counts") or {}).items():
                (found,) = con.execute(f"select count(*) from {name}").fetchone()
                if found != rows:
                    return f"has {found:,} rows in {name} where {rows:,} were published"
    except duckdb.Error as exc:
        return f"cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0]})"
    return None


def _replace_since(build_db: Path, state: dict, version: str | None) -> tuple[str | None, int | None]:
    """The `_watermark` after which contacts must replace those of the published file (None: copy
    everything), and how many contacts were written after it (None: not known).

    Known when the published file was last written from this build database (its `state`,
    see `_state_from`), and only worth it when few contacts changed since.
    """
    since = state.get("watermark")
    if since is None or state.get("storage_version") != version:  # a copy keeps its format
        return None, None
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        if _latest_watermark(con, None) is None:
            return None, None
        total, changed = con.execute(
            f"select count(*), count(*) filter (where _watermark > ?::timestamptz) from {CONTACTS}", [since]
        ).fetchone()
    finally:
        con.close()
    return (since, changed) if changed < total * _FULL_COPY_FROM else (None, None)


def _published_parquet(published: Path, state: dict) -> Path | None:
    """The Parquet folder of the build `published` holds, when its `state` names the one the link
    points to (a publish stopped between the two may have left them apart)."""
    link = parquet_folder(published)
    named = state.get("parquet")
    if not named or not link.is_symlink() or Path(os.readlink(link)).name != named:
        return None
    return _parquet_builds(published) / named


def _latest_watermark(con: duckdb.DuckDBPyConnection, catalog: str | None) -> str | None:
    """The newest `_watermark` of the contacts (None without a contacts table or rows)."""
    schema, table = CONTACTS.split(".")
    present = con.execute(
        "select count(*) from information_schema.columns where table_schema = ? and table_name = ? "
        "and column_name = '_watermark' and (? is null or table_catalog = ?)",
        [schema, table, catalog, catalog],
    ).fetchone()[0]
    relation = f"{catalog}.{CONTACTS}" if catalog else CONTACTS
    return con.execute(f"select max(_watermark)::varchar from {relation}").fetchone()[0] if present else None


def _copy_schemas(con: duckdb.DuckDBPyConnection, since: str | None) -> dict[str, int]:
    """Every published table from `build`: whole, or for the contacts (with `since`) only the rows
    written after that `_watermark`, put in place of the same contacts' rows."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = 'build' and table_schema in ? and table_type = 'BASE TABLE' "
        "order by 1, 2",
        [list(PUBLISHED_SCHEMAS)],
    ).fetchall()
    for schema in PUBLISHED_SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    counts: dict[str, int] = {}
    for schema, table in tables:
        name = f"{schema}.{table}"
        columns = _public_columns(con, schema, table)
        if since is not None and name == CONTACTS:
            same = " and ".join(f"{name}.{k} = changed.{k}" for k in CONTACT_KEY)
            con.execute(
                f"create temp table changed as select {columns} from build.{name} "
                "where _watermark > ?::timestamptz",
                [since],
            )
            con.execute(f"delete from {name} using changed where {same}")
            con.execute(f"insert into {name} ({columns}) select {columns} from changed")
            con.execute("drop table changed")
        else:
            con.execute(f"drop table if exists {name}")
            con.execute(f"create table {name} as select {columns} from build.{name}")
        counts[name] = con.execute(f"select count(*) from {name}").fetchone()[0]
    return counts


def _public_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """The select list of a table without its bookkeeping columns (names starting with `_`)."""
    names = con.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = 'build' and table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return ", ".join(f'"{name}"' for (name,) in names if not name.startswith("_"))
