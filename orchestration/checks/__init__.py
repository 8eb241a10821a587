"""Dagster asset checks: the quality suites' results as check results, and the resource that runs them.

`results.py` turns suite results into `AssetCheckResult`s; `lake.py` holds the
checks of a feed's new rows; `marts.py` the checks of the built marts (run while
the file to publish is staged); `validator.py` the resource that runs suites for
a run, in its own process. The expectations themselves are in
`orchestration/quality/`.
"""
