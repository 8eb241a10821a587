"""dbt's own command line, with one change: a new warehouse location does not make dbt parse everything again.

dbt keeps its parse of the project (`target/partial_parse.msgpack`) and parses
again in full when a hash of the profile's connection settings changes, because
Jinja can read them (`target.path`) while parsing. The DuckDB file's `path` is
one of them, so every new data folder (`SMS_BUILD_DB`) cost a whole-project parse,
4–5 s of one core. No model reads `target.path` (a test checks), so the path is
left out of that hash; everything else in it (the database name, settings,
extensions) still invalidates the parse as before. The lake's path is not in
the parsed project at all: the sources read it from a DuckDB variable that the
profile's plugin sets when dbt runs (duckdb_lake.py).

`python -m orchestration.dbt_command ARGS` is `dbt ARGS` (what `sms-dbt` runs
when no forkserver is up); each of the forkserver's children calls `run()` once.
"""

from __future__ import annotations

import sys

from orchestration.settings import DBT_PROJECT_DIR

PATH_IN_HASH = "<the DuckDB file: left out of the parse-state hash>"
# compiled Jinja templates, reused by the next dbt command (see jinja_cache.py)
JINJA_CACHE = DBT_PROJECT_DIR / "target" / "jinja_code.marshal"


def keep_parse_across_paths() -> None:
    """Compute dbt's parse-state check with the DuckDB path replaced by a constant."""
    from dbt.parser.manifest import ManifestLoader

    original = ManifestLoader.build_manifest_state_check

    def state_check(self):  # noqa: ANN001, ANN202 - dbt's signature
        credentials = self.root_project.credentials
        path = getattr(credentials, "path", None)
        if path is None:
            return original(self)
        credentials.path = PATH_IN_HASH
        try:
            return original(self)
        finally:
            credentials.path = path

    ManifestLoader.build_manifest_state_check = state_check  # type: ignore[method-assign]


def run(argv: list[str]) -> None:
    """dbt's CLI on `argv` (exits like dbt), its Jinja compiled through the project's cache."""
    keep_parse_across_paths()
    from dbt.cli.main import cli

    from orchestration import jinja_cache

    cache = jinja_cache.install(JINJA_CACHE)
    sys.argv = ["dbt", *argv]
    try:
        cli(prog_name="dbt")
    finally:
        if cache is not None:
            cache.save()


if __name__ == "__main__":
    from orchestration.gc_tuning import collect_less_often

    collect_less_often()
    run(sys.argv[1:])
