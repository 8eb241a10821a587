"""The warehouse's vocabularies and constants, read from the dbt project that defines them.

`dbt_project/seeds/` is the one versioned place for the receipt states, the
reached statuses and the not-sent reasons (and the permanent errors operators
extend); the variables of `dbt_project/dbt_project.yml` hold the constants (the
attribution window, the clock skew allowed, the earliest plausible date, the
duplicate rate that warns). Ingestion, the quality suites, the exports and the
benchmark read them from here instead of restating them, so a value changed in
the project is known everywhere.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"


@cache
def project_vars() -> dict[str, Any]:
    """The variables of `dbt_project.yml`, as written there."""
    with open(DBT_PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh)["vars"])


def clock_skew() -> dt.timedelta:
    """How far another clock may run from ours (`clock_skew_minutes`)."""
    return dt.timedelta(minutes=int(project_vars()["clock_skew_minutes"]))


def earliest_plausible() -> dt.datetime:
    """No event happened before this instant (`earliest_plausible_date`, midnight UTC)."""
    day = dt.date.fromisoformat(str(project_vars()["earliest_plausible_date"]))
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def max_duplicate_rate() -> float:
    """The share of repeated rows past which a landing file gets a warning (`max_duplicate_rate`)."""
    return float(project_vars()["max_duplicate_rate"])


def keyword_attribution_days() -> int:
    """A stop keyword goes to a launch that sent to its phone at most this many days before."""
    return int(project_vars()["keyword_attribution_days"])


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
