"""How dbt runs for this warehouse: the project, and the arguments of its commands.

`project.py` is the one `DbtProject` (parsed when `dagster dev` loads it, or when a
model changed since the last parse); `arguments.py` builds the arguments of a dbt
command from what it must do and the warehouse's settings, a pure function tested
without dbt. The resource is dagster-dbt's `DbtCliResource` as shipped
(`definitions.py`); the dbt assets are `assets/models.py`.
"""
