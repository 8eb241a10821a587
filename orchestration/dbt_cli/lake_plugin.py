"""A dbt-duckdb plugin: every DuckDB connection of a dbt run knows where the lake is.

The sources read `getvariable('sms_lake')` (see `dbt_project/models/sources.yml`)
instead of rendering `env_var('SMS_LAKE_DIR')` into the project while dbt parses
it. The lake's location is then a run-time setting: a new data folder does not
make dbt parse the sources and everything reading them again.
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin

VARIABLE = "sms_lake"
DEFAULT_LAKE = "../data/lake"  # relative to dbt_project/, where dbt runs: the default data folder


def lake_dir() -> str:
    """The lake dbt reads: `SMS_LAKE_DIR` (set by `sms-warehouse`), else the default data folder's."""
    return os.environ.get("SMS_LAKE_DIR") or DEFAULT_LAKE


def set_lake(connection) -> None:  # noqa: ANN001 - a DuckDB connection or cursor
    """Define `sms_lake` on one DuckDB connection (variables belong to a connection)."""
    connection.execute(f"set variable {VARIABLE} = ?", [lake_dir()])


class Plugin(BasePlugin):
    """Sets `sms_lake` on the database connection and on every cursor dbt takes from it."""

    def configure_connection(self, conn) -> None:  # noqa: ANN001 - dbt-duckdb's signature
        set_lake(conn)

    def configure_cursor(self, cursor) -> None:  # noqa: ANN001 - dbt-duckdb's signature
        set_lake(cursor)
