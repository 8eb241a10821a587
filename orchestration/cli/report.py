"""What a run did, for the terminal: the problem files, the checks that failed or warned, the summary."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from ingestion.feeds import FEEDS


def _value(metadata: dict[str, Any], key: str, default: Any = None) -> Any:
    entry = metadata.get(key)
    return entry.value if entry is not None and hasattr(entry, "value") else default


def feed_metadata(materializations: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Each feed's materialisation metadata (the same on every partition of a run's range)."""
    found: dict[str, dict[str, Any]] = {}
    for event in materializations:
        key = event.asset_key.to_user_string()
        if key in FEEDS and key not in found:
            found[key] = dict(event.materialization.metadata)
    return found


def problem_file_lines(feeds: dict[str, dict[str, Any]], warehouse: Path, data_docs: Path) -> list[str]:
    """One line per landing file with a problem (its path under the landing root, the rows
    quarantined, its first problem), then where to read the rest; nothing when no file had one."""
    lines = []
    for feed in FEEDS:
        for problem in _value(feeds.get(feed, {}), "problem_files", []):
            parts = []
            if problem.get("file_error"):
                parts.append(f"file error: {problem['file_error']}")
            if problem.get("quarantined"):
                parts.append(
                    f"{problem['quarantined']:,} row(s) quarantined, the first (line {problem['first_line']}): "
                    f"{problem['first_reason']}"
                )
            lines.append(f"  {problem['file']}: {'; '.join(parts)}")
    if not lines:
        return []
    return [
        f"{len(lines)} landing file(s) with problems (the good rows of each went on):",
        *lines,
        f"  every row: audit.quarantine_summary and audit.ingest_files in {warehouse}; "
        f"the lake's _quarantine/ and _files/; the Data Docs at {data_docs / 'index.html'}",
    ]


def check_lines(evaluations: Iterable[Any]) -> list[str]:
    """One block per check that failed (FAILED when blocking, else warning): each problem on a line."""
    lines = []
    for check in evaluations:
        if check.passed:
            continue
        level = "FAILED" if check.severity.value == "ERROR" else "warning"
        metadata = dict(check.metadata)
        problems = _value(metadata, "problems") or [
            _value(metadata, "summary") or check.description or "failed"
        ]
        lines.append(f"{level}: {check.asset_key.to_user_string()} {check.check_name}:")
        lines += [f"    {problem}" for problem in problems]
    return lines


def data_docs(evaluations: Iterable[Any]) -> str | None:
    """The Data Docs index the run's checks link to, if any."""
    return next(
        (_value(dict(c.metadata), "data_docs") for c in evaluations if "data_docs" in c.metadata), None
    )


def summary_table(warehouse: Path) -> list[str]:
    """One line per launch from the published campaign summary."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select launch_id, campaign_id, launch_list_size, sent, not_sent, delivered, "
            "coalesce(format('{:.1f}%', 100 * delivery_rate), '-'), hard_bounced, soft_bounced, "
            "unknown_delivery, with_carrier, unsubscribed, opted_out_by_keyword "
            "from marts.mart_campaign_summary order by launched_at nulls last, launch_id"
        ).fetchall()
    finally:
        con.close()
    head = ("launch", "campaign", "list", "sent", "not sent", "delivered", "rate", "hard", "soft", "unknown",
            "carrier", "unsub", "STOP")  # fmt: skip
    cells = [head, *[tuple(f"{v:,}" if isinstance(v, int) else str(v) for v in row) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    return ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
