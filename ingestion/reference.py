"""The warehouse's vocabularies, read from the dbt seeds that define them.

`dbt_project/seeds/` is the one versioned place for the receipt states, the
reached statuses and the not-sent reasons (and the permanent errors operators
extend). Ingestion, the quality suites and the exports read them from here
instead of restating them, so a value added to a seed is known everywhere.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


@cache
def seed_rows(seed: str) -> tuple[dict[str, str], ...]:
    """The rows of one seed file, as text, in the file's order."""
    with open(SEEDS_DIR / f"{seed}.csv", encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def _sorted_values(seed: str, column: str) -> tuple[str, ...]:
    return tuple(row[column] for row in sorted(seed_rows(seed), key=lambda row: int(row["sort_order"])))


def receipt_states() -> tuple[str, ...]:
    """Every SMPP message state a receipt may carry (any other is quarantined)."""
    return tuple(row["stat"] for row in seed_rows("receipt_states"))


def reached_statuses() -> tuple[str, ...]:
    """The seven reached statuses of a sent contact, in the reporting tab's order."""
    return _sorted_values("reached_statuses", "status")


def not_sent_reasons() -> tuple[str, ...]:
    """The four reasons a contact on a launch list was not sent, in the reporting tab's order."""
    return _sorted_values("not_sent_reasons", "reason")


def filter_reasons() -> tuple[str, ...]:
    """The not-sent reasons that Smart Mobile Filtering writes into a send log's `filter_reason`."""
    rows = sorted(seed_rows("not_sent_reasons"), key=lambda row: int(row["sort_order"]))
    return tuple(row["reason"] for row in rows if row["is_filter_reason"] == "true")


def contact_lists() -> tuple[str, ...]:
    """Every list a contact can be exported in: a reached status or a not-sent reason."""
    return reached_statuses() + not_sent_reasons()
