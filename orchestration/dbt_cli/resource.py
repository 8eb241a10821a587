"""dagster-dbt's resource as this warehouse runs it: dbt imported while the run ingests."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.dbt_cli import forkserver
from orchestration.dbt_cli.environment import dbt_core_version

SMS_DBT = str(Path(sys.executable).with_name("sms-dbt"))  # dbt, through the run's forkserver when up


class DbtCli(DbtCliResource):
    """Runs dbt for the warehouse's assets; a dbt forkserver lives as long as the run.

    When a run starts, so does a process that imports dbt (`forkserver.py`), on the
    other core while the landing files are read; every dbt command of the run is a
    fork of it (`sms-dbt`). Two start-up costs that dagster-dbt has no public switch
    for are skipped, each by overriding one method (pinned by a test that fails when
    dagster-dbt renames it): the `dbt --version` subprocess before every invocation
    (the version is read from the package metadata of dbt's environment instead), and
    a dbt adapter set up in the Dagster process (which has no dbt-core), used only to
    fetch row counts or column metadata, which these assets do not ask for.
    """

    forkserver: bool = True
    """Import dbt in a forkserver when the run starts (off: every dbt command starts afresh)."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[DbtCli]:
        self.setup_for_execution(context)
        try:
            with forkserver.running() if self.forkserver else contextlib.nullcontext():
                yield self
        finally:
            self.teardown_after_execution(context)

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(dbt_core_version())

    def _initialize_dbt_core_adapter(self, args):  # noqa: ANN001, ANN202 - dagster-dbt's signature
        return None
