"""Great Expectations 1.x suites run on in-memory frames, rendered as Data Docs.

GX is imported inside the functions (its import takes seconds) and runs on
pandas frames: GX over DuckDB through SQLAlchemy is known to break, and the
lake and marts are small enough to validate in memory. Nothing here knows about
Dagster: `run_suite` returns plain results that the asset checks turn into
metadata.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

SAMPLE_SIZE = 10

# Data Docs pages waiting to be rendered, per docs folder; rendering is batched
# (one site build renders many validations for little more than the cost of one)
_pending: dict[Path, list[Any]] = {}
_deferred = False
_worker: Any = None  # a gx_worker.Worker while a run validates in a worker process


@dataclass
class Expectation:
    """One GX expectation by its class name (`ExpectColumnValuesToNotBeNull`) and arguments."""

    kind: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failure:
    """An expectation that failed: what it was, how many rows, which ones (a sample)."""

    expectation: str
    column: str | None
    unexpected: int
    sample: list[Any]
    observed: Any = None  # for table-level expectations (a row count, a column set)


@dataclass
class SuiteResult:
    """The outcome of one suite on one frame."""

    suite: str
    rows: int
    evaluated: int
    failures: list[Failure]
    docs: Path | None

    @property
    def success(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        if self.success:
            return f"{self.suite}: {self.evaluated} expectations met on {self.rows:,} rows"
        parts = [
            f"{f.expectation}({f.column or ''}) "
            + (f"on {f.unexpected:,} rows" if f.unexpected else f"observed {f.observed}")
            for f in self.failures
        ]
        return f"{self.suite}: " + "; ".join(parts)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


# modules GX imports for expectations these suites never use (its KL-divergence and
# distribution expectations): scipy.stats and altair were 2.5 s of GX's 5.5 s import
IMPORTED_ON_FIRST_USE = ("scipy.stats", "altair")


class _OnFirstUse(types.ModuleType):
    """Stands in for a module until one of its attributes is read; then imports it and defers to it."""

    def __getattr__(self, attr: str) -> Any:
        real = self.__dict__.get("_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        return getattr(real, attr)


def _gx() -> Any:
    """`great_expectations`, imported without the modules only unused expectations need."""
    if "great_expectations" not in sys.modules:
        for name in IMPORTED_ON_FIRST_USE:
            sys.modules.setdefault(name, _OnFirstUse(name))
    import great_expectations

    return great_expectations


_FRAMES, _WHOLE_FRAME = "frames", "whole frame"  # the one data source, asset and batch of every suite


@functools.cache
def _context(docs_dir: Path | None) -> Any:
    """One ephemeral GX context per process and docs folder, so Data Docs index every suite it ran."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory batch by hashing all of it (seconds per
    # million rows) for a batch marker nothing here reads: skip the hash
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name="warehouse",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    # one in-memory asset for every suite (each suite passes its own frame at run time): GX
    # writes out its whole configuration as YAML whenever an asset or batch definition is
    # added, which made every new suite of a run slower than the one before
    asset = context.data_sources.add_pandas(_FRAMES).add_dataframe_asset(_FRAMES)
    asset.add_batch_definition_whole_dataframe(_WHOLE_FRAME)
    return context


def validating_elsewhere() -> bool:
    """Whether suites go to the run's GX worker (see gx_worker.py) rather than run in this process."""
    return _worker is not None


def run_suite(
    name: str,
    frame: pl.DataFrame,
    expectations: list[Expectation],
    docs_dir: Path | None = None,
    id_columns: list[str] | None = None,
) -> SuiteResult:
    """Validate `frame` with GX; failing rows are named by `id_columns` in the sample.

    With `docs_dir`, the validation is also rendered into the Data Docs site there.
    Runs in the run's GX worker process when one is up (see gx_worker.py).
    """
    global _worker
    if _worker is not None:
        narrowed = _narrow(frame, expectations, id_columns)
        try:
            return _worker.validate(name, narrowed, expectations, docs_dir, id_columns)
        except (EOFError, OSError):  # the worker died (killed, out of memory): validate here from now on
            _worker = None
    return run_suite_here(name, frame, expectations, docs_dir, id_columns)


def run_suite_here(
    name: str,
    frame: pl.DataFrame,
    expectations: list[Expectation],
    docs_dir: Path | None,
    id_columns: list[str] | None,
) -> SuiteResult:
    context = _context(docs_dir)
    gx = _gx()
    batch = context.data_sources.get(_FRAMES).get_asset(_FRAMES).get_batch_definition(_WHOLE_FRAME)
    suite = context.suites.add_or_update(  # stored once, not once per expectation
        gx.ExpectationSuite(
            name=name, expectations=[getattr(gx.expectations, e.kind)(**e.kwargs) for e in expectations]
        )
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    # counts first (BASIC: ~1 s per million rows cheaper than SUMMARY); only a suite where
    # rows failed is run again, for samples of the failing rows named by `id_columns`
    detailed: dict[str, Any] = {"result_format": "COMPLETE" if id_columns else "SUMMARY"}
    if id_columns:
        detailed["unexpected_index_column_names"] = id_columns
    # the counts need only the columns the expectations read; the id columns join them for the
    # samples (GX copies the whole frame once per expectation: with a million contact ids the
    # contacts suite took 0.75-1.35 s, without them 0.64-0.88 s; 6 runs each)
    named = _narrow(frame, expectations, id_columns)
    rows = frame.height
    del frame  # in the GX worker, `named` (and the counting pass's view of it) is all that stays
    passes = (
        ("", {"result_format": "BASIC"}, _narrow(named, expectations, None)),
        ("_failing_rows", detailed, named),
    )
    for suffix, result_format, data in passes:
        parameters = {"dataframe": _for_pandas(data)}
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name + suffix, validation_definitions=[definition], result_format=result_format
            )
        )
        outcome = checkpoint.run(batch_parameters=parameters)
        if not _rows_failed(outcome):  # passed, or failed on the table (a count, a column set)
            break
    if docs_dir is not None:
        _pending.setdefault(docs_dir, []).extend(outcome.run_results)
        if not _deferred:
            render_data_docs()
    failures = []
    evaluated = 0
    for validation in outcome.run_results.values():
        for r in validation.results:
            evaluated += 1
            if r.success:
                continue
            res = r.result or {}
            sample = res.get("unexpected_index_list") or res.get("partial_unexpected_list") or []
            failures.append(
                Failure(
                    expectation=r.expectation_config.type,
                    column=r.expectation_config.kwargs.get("column"),
                    unexpected=int(res.get("unexpected_count") or 0),
                    sample=_jsonable(list(sample)[:SAMPLE_SIZE]),
                    observed=_jsonable(res.get("observed_value")),
                )
            )
    index = docs_dir / "index.html" if docs_dir is not None else None
    return SuiteResult(name, rows, evaluated, failures, index)


def _rows_failed(outcome: Any) -> bool:
    return any(
        not r.success and (r.result or {}).get("unexpected_count")
        for validation in outcome.run_results.values()
        for r in validation.results
    )


def _narrow(
    frame: pl.DataFrame, expectations: list[Expectation], id_columns: list[str] | None
) -> pl.DataFrame:
    """Only the columns the expectations read: GX copies whole frames as it filters them.

    A suite that checks the set of columns itself gets every column.
    """
    if any(e.kind == "ExpectTableColumnsToMatchSet" for e in expectations):
        return frame
    wanted = set(id_columns or [])
    for e in expectations:
        for key in ("column", "column_A", "column_B"):
            if key in e.kwargs:
                wanted.add(e.kwargs[key])
        wanted.update(e.kwargs.get("column_list", []))
    return frame.select([c for c in frame.columns if c in wanted]) if wanted else frame


def _for_pandas(frame: pl.DataFrame) -> Any:
    """The frame GX validates, with repetitive text columns as pandas categories.

    GX filters the whole frame once per expectation (its null-row filter), which on
    a million rows is mostly copying text columns; a column with few distinct values
    (launch ids, vocabularies) copies as small integer codes instead (the contacts
    suite on a million rows: 1.7 s instead of 2.8 s). Same values, same answers.
    """
    repetitive = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String
        and frame.height >= 10_000
        and frame[name].approx_n_unique() * 100 <= frame.height
    ]
    return frame.with_columns(pl.col(repetitive).cast(pl.Categorical)).to_pandas()


def render_data_docs() -> None:
    """Render the Data Docs pages of the validations run since the last rendering, and the index."""
    for docs_dir, identifiers in list(_pending.items()):
        if identifiers:
            _context(docs_dir).build_data_docs(site_names=["warehouse"], resource_identifiers=identifiers)
        _pending.pop(docs_dir, None)


def render_data_docs_soon() -> None:
    """Start rendering the pending Data Docs in the run's GX worker, without waiting for it.

    For the end of a run: the pages render while the caller publishes. Without a
    worker, rendering stays where it was deferred to (GX here is not for threads).
    """
    if _worker is not None:
        _worker.render_soon()


@contextlib.contextmanager
def data_docs_at_the_end() -> Iterator[None]:
    """Within this block, Data Docs are rendered once at its end (a whole run in one process)
    rather than after every suite."""
    global _deferred
    _deferred = True
    try:
        yield
    finally:
        _deferred = False
        render_data_docs()


def start_in_worker(docs_dir: Path | None) -> None:
    """In a GX worker process (see gx_worker.py): import GX and make its context now, render Data Docs at the end."""
    global _deferred
    _deferred = True
    _context(docs_dir)


def expect(kind: str, **kwargs: Any) -> Expectation:
    """Shorthand: `expect("ExpectColumnValuesToNotBeNull", column="event_id")`."""
    return Expectation(kind, kwargs)
