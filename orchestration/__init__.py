"""The Dagster side of the warehouse: everything that runs, checks, schedules or publishes.

Where a change goes (each package's docstring says more):

- `definitions.py`  the one `dg.Definitions` that the UI, the CLI and the daemon load
- `jobs.py`         the warehouse job and how a run over the landing zone's changes is requested
- `assets/`         Dagster assets, one module per layer: landing feeds, dbt models, published files
- `checks/`         Dagster asset checks, built from the quality suites' results
- `quality/`        Great Expectations: what the data must satisfy and running it (no Dagster)
- `warehouse/`      state kept beside the data: which landing files changed, when a build must
                    start from the whole lake, publishing, contact-list files (no Dagster)
- `dbt_cli/`        how dbt runs: the project, the arguments of its commands
- `cli/`            the `sms-warehouse` command
- `settings.py`     the `settings` resource: folders and knobs from the `SMS_*` variables
- `paths.py`        where every file lives; `instance.py` the Dagster instance and how runs take
                    turns; `progress.py` the terminal's line per step

Beside this package, `ingestion/` reads the landing feeds (pure Polars, no Dagster) and
`dbt_project/` holds every business rule that is SQL.
"""
