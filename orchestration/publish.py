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
rewritten by a full rebuild) means a full copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from ingestion.atomic import replacing, write_text_atomically

PUBLISHED_SCHEMAS = ("marts", "audit")
# the table that grows with history: keyed by contact, each row stamped by the build that wrote it
CONTACTS, CONTACT_KEY = "marts.fct_launch_contacts", ("launch_id", "contact_id")
_FULL_COPY_FROM = 0.5  # share of contacts rewritten from which a full copy is cheaper


def state_path(published: Path) -> Path:
    """What the published file holds: the build database and the contacts' latest `_watermark`."""
    return published.with_name(published.name + ".state.json")


def publish(build_db: Path, published: Path) -> dict[str, int]:
    """Copy the published schemas of `build_db` into `published`; returns rows per table."""
    counts: dict[str, int] = {}
    since = _replace_since(build_db, published)
    with replacing(published) as tmp:
        if since is not None:
            shutil.copyfile(published, tmp)
        try:
            con = duckdb.connect(str(tmp))
            try:
                con.execute(f"attach '{build_db}' as build (read_only)")
                counts = _copy_schemas(con, since)
                watermark = _latest_watermark(con, "build")
                con.execute("detach build")
                con.execute("checkpoint")
            finally:
                con.close()
        finally:
            Path(str(tmp) + ".wal").unlink(missing_ok=True)
    state = {"build_db": str(build_db), "watermark": watermark}
    write_text_atomically(json.dumps(state), state_path(published))
    return counts


def _replace_since(build_db: Path, published: Path) -> str | None:
    """The `_watermark` after which contacts must replace those of `published`; None: copy everything.

    Known when `published` was last written from this build database (its state file says
    so, and up to which `_watermark`), and only worth it when few contacts changed since.
    """
    try:
        state = json.loads(state_path(published).read_text())
    except (OSError, ValueError):
        return None
    since = state.get("watermark")
    if not published.exists() or state.get("build_db") != str(build_db) or since is None:
        return None
    con = duckdb.connect(str(build_db), read_only=True)
    try:
        if _latest_watermark(con, None) is None:
            return None
        total, changed = con.execute(
            f"select count(*), count(*) filter (where _watermark > ?::timestamptz) from {CONTACTS}", [since]
        ).fetchone()
    finally:
        con.close()
    return since if changed < total * _FULL_COPY_FROM else None


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
