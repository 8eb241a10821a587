"""Publish the marts to the DuckDB file BI tools read, atomically.

dbt builds into a separate working database. Only after the whole build and its
blocking checks pass are the `marts` and `audit` schemas copied into a new file,
which is renamed over the published one. A reader that already has the file
open keeps the previous complete version; the next connection sees the new one.
Columns whose name starts with `_` are the build's bookkeeping (`_watermark`) and
are not published.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.atomic import replacing

PUBLISHED_SCHEMAS = ("marts", "audit")


def publish(build_db: Path, published: Path) -> dict[str, int]:
    """Copy the published schemas of `build_db` into `published`; returns rows per table."""
    counts: dict[str, int] = {}
    with replacing(published) as tmp:
        try:
            con = duckdb.connect(str(tmp))
            try:
                counts = _copy_schemas(con, build_db)
            finally:
                con.close()
        finally:
            Path(str(tmp) + ".wal").unlink(missing_ok=True)
    return counts


def _copy_schemas(con: duckdb.DuckDBPyConnection, build_db: Path) -> dict[str, int]:
    con.execute(f"attach '{build_db}' as build (read_only)")
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
        columns = _public_columns(con, schema, table)
        con.execute(f"create table {schema}.{table} as select {columns} from build.{schema}.{table}")
        counts[f"{schema}.{table}"] = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
    con.execute("detach build")
    con.execute("checkpoint")
    return counts


def _public_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """The select list of a table without its bookkeeping columns (names starting with `_`)."""
    names = con.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = 'build' and table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return ", ".join(f'"{name}"' for (name,) in names if not name.startswith("_"))
