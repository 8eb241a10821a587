"""How dbt runs for this warehouse: the project, its arguments, the resource, the processes.

`project.py` is the one `DbtProject`; `arguments.py` builds the arguments of a
build (a pure function); `resource.py` is dagster-dbt's resource as this project
uses it; `environment.py` finds dbt's own environment (`dbt_env/.venv`: dbt-core
is never imported by Dagster's processes); `forkserver.py` and `client.py` (the
`sms-dbt` command) let a run import dbt while it ingests; `lake_plugin.py` is the
dbt-duckdb plugin that tells every dbt connection where the lake is. Kept light to
import: dbt's environment loads the forkserver and the plugin from here.
"""
