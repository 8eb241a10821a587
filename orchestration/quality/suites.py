"""What the data must satisfy, as GX expectation suites: the lake per feed, the marts, the audit.

Lake suites are derived from `ingestion/feeds.py` (one declaration per feed). Mart
suites check, on frames read from the build database before it is published, what
the dbt tests do not: the grain, the sums and the vocabularies of each table are
dbt tests (`dbt_project/models/marts/_marts.yml`); here, that every launch has
every reason and status, plausible times and phones, and the audit left overs.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from ingestion.feeds import Feed
from ingestion.ingest import output_schema
from ingestion.phones import E164_PATTERN
from ingestion.reference import (
    clock_skew,
    earliest_plausible,
    max_duplicate_rate,
    not_sent_reasons,
    reached_statuses,
)
from orchestration.quality.validation import Expectation, expect

E164 = f"^{E164_PATTERN}$"


def schema_problems(frame: pl.DataFrame, feed: Feed) -> list[str]:
    """Columns missing, unexpected or of another type than the lake schema of the feed."""
    expected = output_schema(feed)
    problems = [f"missing column {c}" for c in expected if c not in frame.schema]
    problems += [f"unexpected column {c}" for c in frame.schema if c not in expected]
    problems += [
        f"{c} is {frame.schema[c]}, expected {t}"
        for c, t in expected.items()
        if c in frame.schema and frame.schema[c] != t
    ]
    return problems


def lake_columns(feed: Feed) -> list[Expectation]:
    """Exactly the lake columns of the feed (run on the frame's header: a zero-row frame)."""
    return [expect("ExpectTableColumnsToMatchSet", column_set=list(output_schema(feed)), exact_match=True)]


def lake_rows(feed: Feed, now: dt.datetime) -> list[Expectation]:
    """Non-null keys, enum values, timestamp ranges, integer bounds and E.164 shape of one feed's rows."""
    exps: list[Expectation] = []
    for c in feed.columns:
        if c.required:
            exps.append(expect("ExpectColumnValuesToNotBeNull", column=c.name))
        if c.kind == "enum":
            exps.append(expect("ExpectColumnValuesToBeInSet", column=c.name, value_set=list(c.values)))
        if c.kind == "timestamp" and not c.best_effort:  # a carrier's clock is reported in the audit
            exps.append(
                expect(
                    "ExpectColumnValuesToBeBetween",
                    column=c.name,
                    min_value=earliest_plausible(),
                    max_value=now + clock_skew(),
                )
            )
        if c.kind == "int" and c.min_value is not None:
            exps.append(expect("ExpectColumnValuesToBeBetween", column=c.name, min_value=c.min_value))
    for target in feed.phone_columns.values():
        exps.append(expect("ExpectColumnValuesToMatchRegex", column=target, regex=E164))
    return exps


def ingest_accounting() -> list[Expectation]:
    """Per file: rows read = kept + duplicates + quarantined."""
    return [expect("ExpectColumnValuesToBeBetween", column="unreconciled", min_value=0, max_value=0)]


def accounting_frame(files: pl.DataFrame) -> pl.DataFrame:
    return files.with_columns(
        (pl.col("rows_read") - pl.col("rows_kept") - pl.col("duplicates") - pl.col("quarantined")).alias(
            "unreconciled"
        ),
        (pl.col("duplicates") / pl.col("rows_read")).fill_nan(0.0).fill_null(0.0).alias("duplicate_rate"),
    )


def duplicate_rate() -> list[Expectation]:
    """A warning when a file repeats more than `max_duplicate_rate` of its rows (a re-delivery, or
    a producer bug)."""
    return [expect("ExpectColumnValuesToBeBetween", column="duplicate_rate", max_value=max_duplicate_rate())]


# --- marts -------------------------------------------------------------------------------------------

SUMMARY_SQL = """
with reasons as (
    select launch_id, count(*) as reason_rows from marts.mart_not_sent_reasons group by launch_id
),

statuses as (
    select launch_id, count(*) as status_rows from marts.mart_reached_statuses group by launch_id
)

select
    summary.launch_id,
    summary.launch_list_size,
    summary.declared_launch_list_size,
    coalesce(reasons.reason_rows, 0) as reason_rows,
    coalesce(statuses.status_rows, 0) as status_rows
from marts.mart_campaign_summary as summary
left join reasons on summary.launch_id = reasons.launch_id
left join statuses on summary.launch_id = statuses.launch_id
"""


def marts_contract() -> list[Expectation]:
    """contract/marts.md: every launch has a row for each not-sent reason and each reached status
    (a missing one would leave the dbt sum tests passing)."""
    reasons, statuses = len(not_sent_reasons()), len(reached_statuses())
    return [
        expect("ExpectColumnValuesToBeBetween", column="reason_rows", min_value=reasons, max_value=reasons),
        expect("ExpectColumnValuesToBeBetween", column="status_rows", min_value=statuses, max_value=statuses),
    ]


def declared_list_size() -> list[Expectation]:
    """A warning naming the launches whose counted list differs from the declared launch_list_size."""
    return [
        expect(
            "ExpectColumnPairValuesToBeEqual",
            column_A="launch_list_size",
            column_B="declared_launch_list_size",
            ignore_row_if="either_value_is_missing",
        )
    ]


# the contacts not published yet (`?`: the published file's latest `_watermark`, or
# '-infinity'): what the latest build wrote, and what an earlier build wrote that a failed check
# kept from being published, which must not go out unchecked with the next one. The grain and
# the vocabularies of the whole table are dbt tests
CONTACTS_SQL = """
select launch_id, contact_id, phone_e164, submitted_at
from marts.fct_launch_contacts
where _watermark > ?::timestamptz
"""


def contacts_contract(now: dt.datetime) -> list[Expectation]:
    """E.164 phones, no send from the future or before the earliest plausible date (our own
    platform's clock).

    The carrier's clock (a final receipt dated before its send, in the future) is reported by
    `audit.suspicious_receipts`, never a reason to hold back every other launch's numbers.
    """
    return [
        expect("ExpectColumnValuesToMatchRegex", column="phone_e164", regex=E164),
        expect(
            "ExpectColumnValuesToBeBetween",
            column="submitted_at",
            min_value=earliest_plausible(),
            max_value=now + clock_skew(),
        ),
    ]


def nothing_left_over() -> list[Expectation]:
    """A warning when an audit table (orphans, unattributed keywords, quarantine) has rows."""
    return [expect("ExpectTableRowCountToEqual", value=0)]
