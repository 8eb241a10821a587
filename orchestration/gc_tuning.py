"""Fewer garbage collections in the project's Python processes (the run, the GX worker, dbt's).

CPython looks for reference cycles among young objects after every 700 new
container objects, and now and then walks every object alive. Importing Dagster,
dbt-core and GX leaves millions of long-lived objects behind, and the collector
spends most of its time walking those. These processes make few cycles and live
for one run, so collecting young objects less often costs no memory to speak of.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)  # CPython's defaults: (700, 10, 10)


def collect_less_often() -> None:
    """Raise the collector's thresholds for this process (and the processes it forks)."""
    gc.set_threshold(*THRESHOLDS)
