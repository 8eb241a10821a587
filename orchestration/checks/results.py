"""Suite results as Dagster asset check results: which expectation failed, on how many rows, which ones."""

from __future__ import annotations

import dagster as dg

from orchestration.quality.validation import SuiteResult


def to_check_result(
    name: str,
    results: list[SuiteResult],
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    problems: list[str] | None = None,
    metadata: dict[str, object] | None = None,
    asset_key: dg.AssetKey | str | None = None,
) -> dg.AssetCheckResult:
    """One check result from suite results and any problems found outside GX.

    `problems` is the list of sentences the UI and the CLI show, one per failing
    expectation or problem, each whole.
    """
    problems = [*(problems or []), *(f"{r.suite}: {f.describe()}" for r in results for f in r.failures)]
    failures = [
        {
            "suite": r.suite,
            "expectation": f.expectation,
            "column": f.column,
            "rows": f.unexpected,
            "observed": f.observed,
            "sample": f.sample,
        }
        for r in results
        for f in r.failures
    ]
    docs = next((r.docs for r in results if r.docs is not None), None)
    summary = "; ".join(problems) or "all expectations met"
    meta: dict[str, object] = {
        "summary": summary,
        "problems": dg.MetadataValue.json(problems),
        "expectations_evaluated": sum(r.evaluated for r in results),
        "failed_expectations": dg.MetadataValue.json(failures) if failures else 0,
        **({"data_docs": dg.MetadataValue.url(docs.as_uri())} if docs else {}),
        **(metadata or {}),
    }
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=name,
        passed=not problems,
        severity=severity,
        metadata=meta,
        description=summary,
    )
