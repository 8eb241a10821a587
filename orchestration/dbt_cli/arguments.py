"""The arguments of a dbt build: a pure function of what the build must do (tested without dbt)."""

from __future__ import annotations

# What only a full build changes, which an incremental build would rebuild as it is:
# - the reference seeds (permanent errors, vocabularies) and their own tests: a change to a
#   seed is a change of the project, which makes the next build a full one (warehouse/rebuild.py);
# - the staging views: their SQL changes only with the project, and they read the lake through
#   a run-time variable (lake_plugin.py), so they stand for any lake as they are.
# `path:seeds` is the seeds and the tests written in seeds/*.yml; with indirect selection
# `empty`, tests of models that read a seed (relationships) still run. One `--exclude` value,
# a space-separated union: dagster-dbt regroups flags and their values.
UNCHANGED_IN_INCREMENTAL_BUILDS = "path:seeds path:models/staging,resource_type:model"
# dbt's unit tests check the SQL of models on hand-written rows, not the data: `make test` runs
# them (tests/test_marts_rules.py), a build never does. dagster-dbt, without dbt-core in its
# process, cannot apply a selection of its own (`exclude=` on `dbt_assets`), so the build leaves them out.
UNIT_TESTS = "resource_type:unit_test"


def build_args(
    *, full_refresh: bool, subset: bool, log_file: bool = False, write_json: bool = False
) -> list[str]:
    """`dbt build` arguments (dagster-dbt adds the selection of the assets being materialised).

    - never dbt's unit tests (`UNIT_TESTS`);
    - `full_refresh`: rebuild every model from the whole lake (`--full-refresh`);
    - otherwise, unless only some assets were selected (`subset`), leave out what only a
      full build changes (`UNCHANGED_IN_INCREMENTAL_BUILDS`);
    - `log_file`: keep dbt's own log file (the run's logs hold the same lines);
    - `write_json`: write `manifest.json` and `run_results.json` in the build's target folder
      (dagster-dbt reads the project's manifest and dbt's event stream, not these).
    """
    incremental = not full_refresh and not subset
    args = ["build", *(["--full-refresh"] if full_refresh else [])]
    args += ["--exclude", f"{UNIT_TESTS} {UNCHANGED_IN_INCREMENTAL_BUILDS}" if incremental else UNIT_TESTS]
    if incremental:
        args += ["--indirect-selection", "empty"]
    if not log_file:
        args += ["--log-level-file", "none"]
    if not write_json:
        args.append("--no-write-json")
    return args
