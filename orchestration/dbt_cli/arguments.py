"""The arguments of the warehouse's dbt commands: pure functions, tested without dbt."""

from __future__ import annotations

import json
from collections.abc import Mapping

# What only a full build changes, which an incremental build would rebuild as it is:
# - the reference seeds (permanent errors, vocabularies) and their own tests: a change to a
#   seed is a change of the project, which makes the next build a full one (warehouse/rebuild.py);
# - the staging views: their SQL changes only with the project, and they read the lake through
#   the `sms_lake` variable, so they stand for any lake as they are.
# `path:seeds` is the seeds and the tests written in seeds/*.yml; with indirect selection
# `empty`, tests of models that read a seed (relationships) still run.
UNCHANGED_IN_INCREMENTAL_BUILDS = "path:seeds path:models/staging,resource_type:model"
# dbt's unit tests check the SQL of models on hand-written rows, not the data: `make test` runs
# them (tests/test_marts_rules.py); the dbt assets leave them out (`exclude=` of `@dbt_assets`).
UNIT_TESTS = "resource_type:unit_test"


def settings_args(threads: int, variables: Mapping[str, str]) -> list[str]:
    """What every dbt command of one warehouse is given: its threads and the `sms_*` variables
    (its lake, its build database and that database's memory; see orchestration/settings.py)."""
    return ["--threads", str(threads), "--vars", json.dumps(dict(variables), sort_keys=True)]


def build_args(
    *,
    full_refresh: bool,
    subset: bool,
    threads: int,
    variables: Mapping[str, str],
    log_file: bool = False,
    write_json: bool = False,
) -> list[str]:
    """`dbt build` arguments (dagster-dbt adds the selection of the assets being materialised).

    - `full_refresh`: rebuild every model from the whole lake (`--full-refresh`);
    - otherwise, unless only some assets were selected (`subset`), leave out what only a
      full build changes (`UNCHANGED_IN_INCREMENTAL_BUILDS`);
    - `log_file`: keep dbt's own log file (the run's logs hold the same lines);
    - `write_json`: write `run_results.json` and the manifest in the target folder (dagster-dbt
      reads dbt's event stream and the project's manifest, not these).
    """
    incremental = not full_refresh and not subset
    args = ["build", *(["--full-refresh"] if full_refresh else [])]
    if incremental:
        args += ["--exclude", UNCHANGED_IN_INCREMENTAL_BUILDS, "--indirect-selection", "empty"]
    if not log_file:
        args += ["--log-level-file", "none"]
    if not write_json:
        args.append("--no-write-json")
    return args + settings_args(threads, variables)
