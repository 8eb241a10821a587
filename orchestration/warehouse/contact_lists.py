"""Contact-list files for re-permissioning or a relaunch, read from the published `fct_launch_contacts`.

`<export root>/campaign=<campaign_id>/launch=<launch_id>/<status_or_reason>.csv`,
header `contact_id,phone_e164`, one row per contact sorted by `contact_id`,
written atomically. Ids are made safe for a path: nothing can climb out of the
export root. A cell that a spreadsheet would read as a formula (it begins with
`=`, `+`, `-`, `@`, a tab or a carriage return) is written with a leading `'`
(OWASP's CSV-injection advice), except an E.164 phone number (`+` and digits only),
which cannot be one.

With no launch or campaign named, every launch whose contacts changed since the
last export is exported: `.exported.json` in the export root keeps a digest of
each launch's contacts as last exported.
"""

from __future__ import annotations

import csv
import enum
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.atomic import replacing, write_text_atomically
from ingestion.phones import E164_PATTERN
from ingestion.reference import contact_lists

LISTS = contact_lists()
ContactList = enum.Enum("ContactList", [(name, name) for name in LISTS], type=str)
"""Every list a contact can be in: the reached statuses, then the not-sent reasons (from the seeds)."""

STATE_FILE = ".exported.json"
PREVIEW_ROWS = 5
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(E164_PATTERN)


class ExportError(ValueError):
    """A request that cannot be exported (an unknown launch, campaign or list)."""


@dataclass(frozen=True)
class ExportedList:
    """One file written: whose, which list, where, how many contacts, its first rows."""

    campaign_id: str
    launch_id: str
    list_name: str
    path: Path
    rows: int
    preview: list[tuple[str, str | None]]


def safe_component(value: str) -> str:
    """An id as one safe path component: no separators, no `..`, nothing hidden, never empty.

    Characters other than letters, digits, `-`, `_` and `.` become `_`; leading dots too.
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", value).lstrip(".")
    cleaned = cleaned.replace("..", "__")
    return cleaned or "_"


def safe_cell(value: str | None) -> str | None:
    """A cell no spreadsheet runs as a formula (OWASP: prefix a `'`); E.164 numbers stay as they are."""
    if value and value.startswith(_FORMULA_START) and not _E164.fullmatch(value):
        return "'" + value
    return value


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


def _known(values: list[str], what: str) -> str:
    shown = ", ".join(values[:20]) + (f", … ({len(values)} in all)" if len(values) > 20 else "")
    return f"known {what}: {shown}" if values else f"the published warehouse has no {what} yet"


def _launches(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """Every launch with contacts: its campaign and a digest of its contacts' outcomes."""
    rows = con.execute(
        "select launch_id, max(campaign_id), "
        "bit_xor(hash(contact_id, phone_e164, outcome, not_sent_reason, reached_status))::varchar "
        "from marts.fct_launch_contacts group by launch_id order by launch_id"
    ).fetchall()
    return {launch: (campaign, digest) for launch, campaign, digest in rows}


def _read_state(root: Path) -> dict[str, str]:
    try:
        return json.loads((root / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def chosen_launches(
    launches: dict[str, tuple[str, str]],
    state: dict[str, str],
    launch_id: str | None,
    campaign_id: str | None,
) -> list[str]:
    """The launches to export: the one named, every launch of the campaign named, or (neither named)
    those whose contacts changed since they were last exported."""
    if launch_id is not None:
        if launch_id not in launches:
            raise ExportError(
                f"launch {launch_id!r} has no contacts in the published warehouse; {_known(list(launches), 'launches')}"
            )
        if campaign_id is not None and launches[launch_id][0] != campaign_id:
            raise ExportError(
                f"launch {launch_id!r} belongs to campaign {launches[launch_id][0]!r}, not {campaign_id!r}"
            )
        return [launch_id]
    if campaign_id is not None:
        found = [launch for launch, (campaign, _) in launches.items() if campaign == campaign_id]
        if not found:
            campaigns = sorted({campaign for campaign, _ in launches.values()})
            raise ExportError(
                f"campaign {campaign_id!r} has no contacts in the published warehouse; {_known(campaigns, 'campaigns')}"
            )
        return found
    return [launch for launch, (_, digest) in launches.items() if state.get(launch) != digest]


def export_lists(
    warehouse: Path,
    root: Path,
    launch_id: str | None = None,
    campaign_id: str | None = None,
    lists: list[str] | None = None,
) -> list[ExportedList]:
    """Write contact lists from the published warehouse (see the module's docstring for which).

    `lists` names the lists to write (an empty list is written with its header only);
    none named: every list that has contacts.
    """
    unknown = [name for name in lists or [] if name not in LISTS]
    if unknown:
        raise ExportError(f"unknown list(s) {', '.join(unknown)}: choose from {', '.join(LISTS)}")
    state = _read_state(root)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        launches = _launches(con)
        written = []
        for launch in chosen_launches(launches, state, launch_id, campaign_id):
            campaign = launches[launch][0]
            counts = dict(
                con.execute(
                    "select coalesce(reached_status, not_sent_reason), count(*) from marts.fct_launch_contacts "
                    "where launch_id = ? group by all",
                    [launch],
                ).fetchall()
            )
            for name in lists or [name for name in LISTS if counts.get(name)]:
                rows = con.execute(
                    "select contact_id, phone_e164 from marts.fct_launch_contacts "
                    "where launch_id = ? and coalesce(reached_status, not_sent_reason) = ? order by contact_id",
                    [launch, name],
                ).fetchall()
                path = export_path(root, campaign, launch, name)
                _write_csv(path, rows)
                written.append(ExportedList(campaign, launch, name, path, len(rows), rows[:PREVIEW_ROWS]))
            state[launch] = launches[launch][1]
    finally:
        con.close()
    write_text_atomically(json.dumps(state, sort_keys=True), root / STATE_FILE)
    return written


def _write_csv(path: Path, rows: list[tuple[str, str | None]]) -> None:
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("contact_id", "phone_e164"))
        writer.writerows((safe_cell(contact), safe_cell(phone)) for contact, phone in rows)
