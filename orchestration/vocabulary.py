"""The status and reason vocabularies, read from the dbt seeds that define them (one place)."""

from __future__ import annotations

import csv

from orchestration.settings import DBT_PROJECT_DIR


def _seed_column(seed: str, column: str) -> tuple[str, ...]:
    with open(DBT_PROJECT_DIR / "seeds" / f"{seed}.csv", encoding="utf-8", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["sort_order"]))
    return tuple(r[column] for r in rows)


REACHED_STATUSES = _seed_column("reached_statuses", "status")
NOT_SENT_REASONS = _seed_column("not_sent_reasons", "reason")
