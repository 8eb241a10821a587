"""Contact-list exports for re-permissioning or a relaunch, read from `fct_launch_contacts` only.

`<export root>/campaign=<campaign_id>/launch=<launch_id>/<status_or_reason>.csv`,
header `contact_id,phone_e164`, one row per contact sorted by `contact_id`,
written atomically. Ids are made safe for a path: nothing can climb out of the
export root.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb

from ingestion.atomic import replacing
from ingestion.reference import contact_lists

LISTS = contact_lists()


class ExportError(ValueError):
    """A request that cannot be exported (unknown launch or list name)."""


def safe_component(value: str) -> str:
    """An id as one safe path component: no separators, no `..`, nothing hidden, never empty.

    Characters other than letters, digits, `-`, `_` and `.` become `_`; leading dots too.
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", value).lstrip(".")
    cleaned = cleaned.replace("..", "__")
    return cleaned or "_"


def export_path(root: Path, campaign_id: str, launch_id: str, list_name: str) -> Path:
    """Where one list goes; guaranteed to be inside `root`."""
    if list_name not in LISTS:
        raise ExportError(f"unknown list {list_name!r}: choose one of {', '.join(LISTS)}")
    root = root.resolve()
    path = (
        root
        / f"campaign={safe_component(campaign_id)}"
        / f"launch={safe_component(launch_id)}"
        / f"{list_name}.csv"
    ).resolve()
    if root not in path.parents:  # cannot happen with safe components; kept as the last guard
        raise ExportError(f"refusing to write outside the export root: {path}")
    return path


def export_lists(
    warehouse: Path, root: Path, launch_id: str, lists: list[str]
) -> dict[str, tuple[Path, int]]:
    """Write the requested lists of one launch from the published warehouse; returns path and rows per list."""
    unknown = [name for name in lists if name not in LISTS]
    if unknown:
        raise ExportError(f"unknown list(s) {', '.join(unknown)}: choose from {', '.join(LISTS)}")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = con.execute(
            "select max(campaign_id) from marts.fct_launch_contacts where launch_id = ?", [launch_id]
        ).fetchone()
        if found is None or found[0] is None:
            raise ExportError(f"launch {launch_id!r} has no contacts in {warehouse}")
        campaign_id = found[0]
        written: dict[str, tuple[Path, int]] = {}
        for name in lists:
            rows = con.execute(
                "select contact_id, phone_e164 from marts.fct_launch_contacts "
                "where launch_id = ? and (reached_status = ? or not_sent_reason = ?) order by contact_id",
                [launch_id, name, name],
            ).fetchall()
            path = export_path(root, campaign_id, launch_id, name)
            _write_csv(path, rows)
            written[name] = (path, len(rows))
        return written
    finally:
        con.close()


def _write_csv(path: Path, rows: list[tuple[str, str | None]]) -> None:
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("contact_id", "phone_e164"))
        writer.writerows(rows)
