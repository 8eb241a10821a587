"""Run a Great Expectations 1.x suite on an in-memory frame, and render the results as Data Docs.

GX runs on pandas frames: GX over DuckDB through SQLAlchemy is known to break, and
the frames a run checks fit in memory. GX is imported when a suite first runs (its
import takes seconds). `Suites` runs suites with one GX context and renders their
pages when asked. Nothing here knows about Dagster: results are plain `SuiteResult`s.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

SAMPLE_SIZE = 10
_FRAMES, _WHOLE_FRAME = "frames", "whole frame"  # the one data source, asset and batch of every suite


@dataclass
class Expectation:
    """One GX expectation by its class name (`ExpectColumnValuesToNotBeNull`) and arguments."""

    kind: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def expect(kind: str, **kwargs: Any) -> Expectation:
    """Shorthand: `expect("ExpectColumnValuesToNotBeNull", column="event_id")`."""
    return Expectation(kind, kwargs)


@dataclass
class Failure:
    """An expectation that failed: what it was, how many rows, which ones (a sample)."""

    expectation: str
    column: str | None
    unexpected: int
    sample: list[Any]
    observed: Any = None  # for table-level expectations (a row count, a column set)

    def describe(self) -> str:
        counted = f"on {self.unexpected:,} rows" if self.unexpected else f"observed {self.observed}"
        return f"{self.expectation}({self.column or ''}) {counted}"


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

    @classmethod
    def merged(cls, parts: list[SuiteResult]) -> SuiteResult:
        """One suite's results on consecutive slices of a frame, as if it had run on the whole:
        rows and failing rows added up, the samples of the first slices kept."""
        failures: dict[tuple[str, str | None], Failure] = {}
        for part in parts:
            for f in part.failures:
                seen = failures.setdefault(
                    (f.expectation, f.column), Failure(f.expectation, f.column, 0, [], f.observed)
                )
                seen.unexpected += f.unexpected
                seen.sample = (seen.sample + f.sample)[:SAMPLE_SIZE]
        first = parts[0]  # there is always one: a suite runs on at least one (perhaps empty) frame
        return cls(
            first.suite, sum(p.rows for p in parts), first.evaluated, list(failures.values()), first.docs
        )

    def describe(self) -> str:
        if self.success:
            return f"{self.suite}: {self.evaluated} expectations met on {self.rows:,} rows"
        return f"{self.suite}: " + "; ".join(f.describe() for f in self.failures)


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


class Suites:
    """Suites run in this process with one ephemeral GX context, so that one Data Docs site
    indexes every suite of a run; their pages are rendered by `render()`, all at once (one site
    build renders many validations for little more than the cost of one)."""

    def __init__(self, docs_dir: Path | None = None) -> None:
        self.docs_dir = docs_dir
        self._context: Any = None
        self._pending: list[Any] = []

    def context(self) -> Any:
        """The GX context, made (and GX imported) on first use."""
        if self._context is None:
            self._context = _new_context(self.docs_dir)
        return self._context

    def run(
        self,
        name: str,
        frame: pl.DataFrame,
        expectations: list[Expectation],
        id_columns: list[str] | None = None,
    ) -> SuiteResult:
        """Validate `frame`; failing rows are named by `id_columns` in the sample."""
        import great_expectations as gx

        context = self.context()
        batch = context.data_sources.get(_FRAMES).get_asset(_FRAMES).get_batch_definition(_WHOLE_FRAME)
        suite = context.suites.add_or_update(  # stored once, not once per expectation
            gx.ExpectationSuite(
                name=name, expectations=[getattr(gx.expectations, e.kind)(**e.kwargs) for e in expectations]
            )
        )
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        # counts first (BASIC is cheaper than SUMMARY); only a suite where rows failed is run
        # again, for samples of the failing rows named by `id_columns`
        detailed: dict[str, Any] = {"result_format": "COMPLETE" if id_columns else "SUMMARY"}
        if id_columns:
            detailed["unexpected_index_column_names"] = id_columns
        # GX copies the whole frame once per expectation: the counting pass gets only the
        # columns the expectations read, the id columns join the pass that samples failures
        named = narrow(frame, expectations, id_columns)
        rows = frame.height
        del frame  # `named` (and the counting pass's view of it) is all that stays of it here
        passes = (
            ("", {"result_format": "BASIC"}, narrow(named, expectations, None)),
            ("_failing_rows", detailed, named),
        )
        for suffix, result_format, data in passes:
            checkpoint = context.checkpoints.add_or_update(
                gx.Checkpoint(
                    name=name + suffix, validation_definitions=[definition], result_format=result_format
                )
            )
            outcome = checkpoint.run(batch_parameters={"dataframe": _for_pandas(data)})
            if not _rows_failed(outcome):  # passed, or failed on the table (a count, a column set)
                break
        if self.docs_dir is not None:
            self._pending.extend(outcome.run_results)
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
        index = self.docs_dir / "index.html" if self.docs_dir is not None else None
        return SuiteResult(name, rows, evaluated, failures, index)

    def render(self) -> None:
        """Render the Data Docs pages of the suites run since the last rendering, and the index.

        GX logs each page it fails to write (a full disk) with a whole traceback and goes on;
        here those are gathered, and a `DataDocsError` says in one line what failed."""
        if self._pending:
            pending, self._pending = self._pending, []
            with _gathered_errors("great_expectations") as errors:
                self.context().build_data_docs(site_names=["warehouse"], resource_identifiers=pending)
            if errors:
                raise DataDocsError(f"{len(errors)} page(s) not written, the first: {errors[0]}")


class DataDocsError(RuntimeError):
    """Data Docs pages GX could not write."""


class _Gather(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        found = re.search(r'(\w+(?:Error|Exception)): "([^"]*)"', text)  # GX's form: `OSError: "..."`
        self.messages.append(f"{found.group(1)}: {found.group(2)}" if found else text.splitlines()[0])


@contextlib.contextmanager
def _gathered_errors(name: str) -> Iterator[list[str]]:
    """The errors a library logs under `name` during the block, gathered instead of printed."""
    logger, gather = logging.getLogger(name), _Gather()
    propagates = logger.propagate
    logger.addHandler(gather)
    logger.propagate = False
    try:
        yield gather.messages
    finally:
        logger.removeHandler(gather)
        logger.propagate = propagates


def run_suite(
    name: str,
    frame: pl.DataFrame,
    expectations: list[Expectation],
    docs_dir: Path | None = None,
    id_columns: list[str] | None = None,
) -> SuiteResult:
    """One suite, run in this process, its Data Docs page rendered at once."""
    suites = Suites(docs_dir)
    result = suites.run(name, frame, expectations, id_columns)
    suites.render()
    return result


def _new_context(docs_dir: Path | None) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

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
    # writes out its whole configuration whenever an asset or batch definition is added,
    # which made every new suite of a run slower than the one before
    asset = context.data_sources.add_pandas(_FRAMES).add_dataframe_asset(_FRAMES)
    asset.add_batch_definition_whole_dataframe(_WHOLE_FRAME)
    return context


def _rows_failed(outcome: Any) -> bool:
    return any(
        not r.success and (r.result or {}).get("unexpected_count")
        for validation in outcome.run_results.values()
        for r in validation.results
    )


def wanted_columns(expectations: list[Expectation], id_columns: list[str] | None = None) -> set[str]:
    """The columns a suite reads (its expectations' columns and the id columns that name failing rows)."""
    wanted = set(id_columns or [])
    for e in expectations:
        for key in ("column", "column_A", "column_B"):
            if key in e.kwargs:
                wanted.add(e.kwargs[key])
        wanted.update(e.kwargs.get("column_list", []))
    return wanted


def narrow(
    frame: pl.DataFrame, expectations: list[Expectation], id_columns: list[str] | None
) -> pl.DataFrame:
    """Only the columns the expectations read: GX copies whole frames as it filters them.

    A suite that checks the set of columns itself gets every column.
    """
    if any(e.kind == "ExpectTableColumnsToMatchSet" for e in expectations):
        return frame
    wanted = wanted_columns(expectations, id_columns)
    return frame.select([c for c in frame.columns if c in wanted]) if wanted else frame


def _for_pandas(frame: pl.DataFrame) -> Any:
    """The frame GX validates, with repetitive text columns as pandas categories.

    GX filters the whole frame once per expectation (its null-row filter), which on
    a big frame is mostly copying text columns; a column with few distinct values
    (launch ids, vocabularies) copies as small integer codes instead. Same values,
    same answers (a test compares them).
    """
    repetitive = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String
        and frame.height >= 10_000
        and frame[name].approx_n_unique() * 100 <= frame.height
    ]
    return frame.with_columns(pl.col(repetitive).cast(pl.Categorical)).to_pandas()
