"""The warehouse's settings: one Dagster resource, `settings`, read from the `SMS_*` variables.

Every asset, check, sensor and command of the warehouse asks `WarehouseSettings`
where its files are (`.paths`) and how to run (region, threads, memory). In the
definitions each field set in the environment is a `dg.EnvVar`, so the UI shows
which variable a value comes from and a run launched from the UI, the sensor or
the schedule reads it where it runs; `sms-warehouse` resolves the same variables
and its flags into plain values and hands them to its run as the resource's config.
`problems()` says, before any work starts, which setting is wrong and what it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from pydantic import Field, PrivateAttr

from ingestion.spill import parse_size
from orchestration.paths import Paths

# each field and the environment variable it is read from
ENV_VARS = {
    "data_dir": "SMS_DATA_DIR",
    "landing_dir": "SMS_LANDING_DIR",
    "lake_dir": "SMS_LAKE_DIR",
    "warehouse": "SMS_WAREHOUSE",
    "exports_dir": "SMS_EXPORTS_DIR",
    "reports_dir": "SMS_REPORTS_DIR",
    "default_region": "SMS_DEFAULT_REGION",
    "dbt_threads": "SMS_DBT_THREADS",
    "ingest_memory_limit": "SMS_INGEST_MEMORY_LIMIT",
    "duckdb_memory_limit": "SMS_DUCKDB_MEMORY_LIMIT",
    "duckdb_temp_dir": "SMS_DUCKDB_TEMP_DIR",
    "publish_storage_version": "SMS_PUBLISH_STORAGE_VERSION",
}
INTEGER_FIELDS = ("dbt_threads",)
PATH_FIELDS = (
    "data_dir",
    "landing_dir",
    "lake_dir",
    "warehouse",
    "exports_dir",
    "reports_dir",
    "duckdb_temp_dir",
)


class SettingsError(ValueError):
    """A setting that cannot work, named with its variable and what it accepts."""


class WarehouseSettings(dg.ConfigurableResource):
    """Where the warehouse's files live and how it runs (environment variables `SMS_*`, README's
    Configuration table). A folder left empty lives under `data_dir`."""

    data_dir: str = Field(
        default="data", description="The folder every default below lives in (SMS_DATA_DIR)."
    )
    landing_dir: str = Field(
        default="", description="The landing zone (SMS_LANDING_DIR; empty: <data_dir>/landing)."
    )
    lake_dir: str = Field(default="", description="The Parquet lake (SMS_LAKE_DIR; empty: <data_dir>/lake).")
    warehouse: str = Field(
        default="",
        description="The published DuckDB file BI tools read (SMS_WAREHOUSE; empty: <data_dir>/warehouse/sms.duckdb).",
    )
    exports_dir: str = Field(
        default="", description="Contact-list exports (SMS_EXPORTS_DIR; empty: <data_dir>/exports)."
    )
    reports_dir: str = Field(
        default="", description="The campaign report (SMS_REPORTS_DIR; empty: <data_dir>/reports)."
    )
    default_region: str = Field(
        default="FR",
        description="Region of phone numbers without a country prefix, as libphonenumber names it (SMS_DEFAULT_REGION).",
    )
    dbt_threads: int = Field(default=2, description="dbt's threads (SMS_DBT_THREADS).")
    ingest_memory_limit: str = Field(
        default="512MB",
        description="Typed rows one arrival day of one feed may hold in memory before it spills to the lake's "
        "_scratch/ (SMS_INGEST_MEMORY_LIMIT).",
    )
    duckdb_memory_limit: str = Field(
        default="4GB",
        description="DuckDB's memory for the dbt build, e.g. 8GB or 50% (SMS_DUCKDB_MEMORY_LIMIT).",
    )
    duckdb_temp_dir: str = Field(
        default="",
        description="Where the dbt build spills past its memory (SMS_DUCKDB_TEMP_DIR; empty: beside the build database).",
    )
    publish_storage_version: str = Field(
        default="v1.4.0",
        description="DuckDB storage format of the published file, readable by DuckDB 1.x clients; `latest` for "
        "DuckDB's newest (SMS_PUBLISH_STORAGE_VERSION).",
    )

    # the paths, made absolute once: relative ones are read from the working folder of the process
    # when the settings are first used, which later steps (dbt's, in its project folder) may change
    _paths: Paths | None = PrivateAttr(default=None)

    @property
    def paths(self) -> Paths:
        """Every folder and file of this warehouse, as absolute paths."""
        if self._paths is None:
            self._paths = self._resolve()
        return self._paths

    def _resolve(self) -> Paths:
        data = _absolute(self.data_dir)
        return Paths(
            landing=_absolute(self.landing_dir) if self.landing_dir else data / "landing",
            lake=_absolute(self.lake_dir) if self.lake_dir else data / "lake",
            warehouse=_absolute(self.warehouse) if self.warehouse else data / "warehouse" / "sms.duckdb",
            exports=_absolute(self.exports_dir) if self.exports_dir else data / "exports",
            reports=_absolute(self.reports_dir) if self.reports_dir else data / "reports",
        )

    @property
    def region(self) -> str:
        """The default region, upper-cased as libphonenumber names regions."""
        return self.default_region.strip().upper()

    @property
    def ingest_memory_bytes(self) -> int:
        return parse_size(self.ingest_memory_limit)

    @property
    def duckdb_spill_dir(self) -> Path:
        build_db = self.paths.build_db
        return (
            _absolute(self.duckdb_temp_dir)
            if self.duckdb_temp_dir
            else build_db.with_name(build_db.name + ".tmp")
        )

    def dbt_vars(self) -> dict[str, str]:
        """What the dbt project reads of these settings (`--vars`): the lake, the build database and
        its memory (profiles.yml, models/sources.yml)."""
        return {
            "sms_lake": str(self.paths.lake),
            "sms_build_db": str(self.paths.build_db),
            "sms_duckdb_memory_limit": self.duckdb_memory_limit,
            "sms_duckdb_temp_dir": str(self.duckdb_spill_dir),
        }

    def as_environment(self) -> dict[str, str]:
        """These settings as the `SMS_*` variables, for a process started with them (`sms-warehouse ui`)."""
        values = self.model_dump()
        resolved = {
            "data_dir": str(_absolute(self.data_dir)),
            "landing_dir": str(self.paths.landing),
            "lake_dir": str(self.paths.lake),
            "warehouse": str(self.paths.warehouse),
            "exports_dir": str(self.paths.exports),
            "reports_dir": str(self.paths.reports),
        }
        return {
            var: str(resolved.get(name, values[name])) for name, var in ENV_VARS.items() if values[name] != ""
        }

    def problems(self) -> list[str]:
        """What is wrong with these settings, one sentence each naming the variable and what it
        accepts (empty: they can work)."""
        import phonenumbers

        found = []
        if self.region not in phonenumbers.SUPPORTED_REGIONS:
            found.append(
                f"SMS_DEFAULT_REGION={self.default_region!r} is not a region libphonenumber knows: "
                "use a two-letter ISO 3166-1 code such as FR, GB, US or DE"
            )
        if self.dbt_threads < 1:
            found.append(f"SMS_DBT_THREADS={self.dbt_threads} must be a whole number of at least 1")
        try:
            parse_size(self.ingest_memory_limit)
        except ValueError:
            found.append(
                f"SMS_INGEST_MEMORY_LIMIT={self.ingest_memory_limit!r} is not a size: use e.g. 512MB, 1GB or 64MiB"
            )
        if not _duckdb_accepts_memory_limit(self.duckdb_memory_limit):
            found.append(
                f"SMS_DUCKDB_MEMORY_LIMIT={self.duckdb_memory_limit!r} is not a memory size DuckDB accepts: "
                "use e.g. 4GB, 8GiB or 50% (of the machine's memory)"
            )
        return found

    def check(self) -> None:
        """Raise `SettingsError` naming every problem of `problems()`."""
        found = self.problems()
        if found:
            raise SettingsError("; ".join(found))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.check()
        self.paths  # noqa: B018 - resolved now, before any step changes the working folder


def _absolute(path: str) -> Path:
    return Path(path).expanduser().resolve()


def _duckdb_accepts_memory_limit(value: str) -> bool:
    import duckdb

    try:
        duckdb.connect(config={"memory_limit": value}).close()
    except (duckdb.Error, ValueError):
        return False
    return True


def from_environment(environ: Mapping[str, str] | None = None, **overrides: str | None) -> WarehouseSettings:
    """The settings the `SMS_*` variables of `environ` (default: this process's) give, with
    `overrides` (a command's flags; None: not given) winning; concrete values, not variables.

    Raises `SettingsError` when a number is not one (the other checks are `problems()`).
    """
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {name: environ[var] for name, var in ENV_VARS.items() if environ.get(var)}
    values |= {name: value for name, value in overrides.items() if value is not None}
    for name in PATH_FIELDS:  # absolute, as this command sees them: the run works on those files
        if values.get(name):
            values[name] = str(_absolute(str(values[name])))
    values.setdefault("data_dir", str(_absolute("data")))
    for name in INTEGER_FIELDS:
        if name in values:
            try:
                values[name] = int(str(values[name]).strip())
            except ValueError:
                raise SettingsError(
                    f"{ENV_VARS[name]}={values[name]!r} is not a whole number (e.g. 2)"
                ) from None
    return WarehouseSettings(**values)  # type: ignore[arg-type]


def resource_from_environment(environ: Mapping[str, str] | None = None) -> WarehouseSettings:
    """The settings resource of the definitions: each variable set in `environ` as a `dg.EnvVar`
    (read where a run executes), the defaults for the rest."""
    environ = os.environ if environ is None else environ
    fields: dict[str, object] = {}
    for name, var in ENV_VARS.items():
        if environ.get(var):
            fields[name] = dg.EnvVar.int(var) if name in INTEGER_FIELDS else dg.EnvVar(var)
    return WarehouseSettings(**fields)  # type: ignore[arg-type]
