"""The campaign report: what the reporting tab shows, as static HTML pages read from the published marts.

`<reports>/index.html` lists batch campaigns and automated programs apart (each
program with its per-day trend across launches); `<reports>/launch=<id>.html` shows
one launch: the summary (sent, delivery rate, unsubscribed, hard and soft bounces,
unknown delivery), the SMS not sent by reason beside the original launch list, the
contacts reached by status, with counts, percentages and charts. Pages are plain
HTML with inline CSS and SVG: they open from the file with no network at all.
`summary_markdown` is the short version for the UI, under the 1,000 characters the
Dagster UI shows inline.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.atomic import write_text_atomically
from ingestion.reference import not_sent_reasons, reached_statuses
from orchestration.warehouse.contact_lists import safe_component

INLINE_LIMIT = 1000  # characters of markdown the Dagster UI shows without a click
STATUS_COLOURS = {
    "delivery_successful": "#2e7d32",
    "with_carrier": "#90a4ae",
    "provider_accepted": "#4fc3f7",
    "provider_error": "#8d6e63",
    "rejected_hard_bounce": "#c62828",
    "rejected_soft_bounce": "#ef6c00",
    "delivery_status_unknown": "#9e9e9e",
}
REASON_COLOUR = "#5c6bc0"


@dataclass
class Launch:
    """One launch's numbers, from `mart_campaign_summary` and the two per-launch marts."""

    launch_id: str
    campaign_id: str
    campaign_name: str | None
    campaign_type: str | None
    program_id: str | None
    launched_at: dt.datetime | None
    launch_list_size: int
    sent: int
    not_sent: int
    delivered: int
    delivery_rate: float | None
    unsubscribed: int
    hard_bounced: int
    soft_bounced: int
    unknown_delivery: int
    opted_out_by_keyword: int
    reasons: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.campaign_name or self.campaign_id

    @property
    def page(self) -> str:
        return f"launch={safe_component(self.launch_id)}.html"


_SUMMARY_COLUMNS = (
    "launch_id, campaign_id, campaign_name, campaign_type, program_id, launched_at, launch_list_size, sent, "
    "not_sent, delivered, delivery_rate, unsubscribed, hard_bounced, soft_bounced, unknown_delivery, "
    "opted_out_by_keyword"
)


def read_launches(warehouse: Path) -> list[Launch]:
    """Every launch of the published marts, newest first, with its reasons and statuses."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        launches = [
            Launch(*row)
            for row in con.execute(
                f"select {_SUMMARY_COLUMNS} from marts.mart_campaign_summary "
                "order by launched_at desc nulls last, launch_id"
            ).fetchall()
        ]
        by_id = {launch.launch_id: launch for launch in launches}
        for launch_id, reason, contacts in con.execute(
            "select * from marts.mart_not_sent_reasons"
        ).fetchall():
            by_id[launch_id].reasons[reason] = contacts
        for launch_id, status, contacts in con.execute(
            "select * from marts.mart_reached_statuses"
        ).fetchall():
            by_id[launch_id].statuses[status] = contacts
    finally:
        con.close()
    return launches


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def bars(rows: list[tuple[str, int, str]], whole: int, label_width: int = 190, width: int = 560) -> str:
    """A horizontal bar chart as inline SVG: one (label, count, colour) per bar, each with its count
    and its share of `whole`; the longest bar fills the plot."""
    bar_h, gap = 20, 8
    plot = width - label_width - 110
    longest = max((count for _, count, _ in rows), default=0)
    height = len(rows) * (bar_h + gap) + gap
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
    ]
    for i, (label, count, colour) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        length = round(plot * count / longest) if longest else 0
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{_e(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{max(length, 1)}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{label_width + length + 6}" y="{y + 15}">{count:,} · {_pct(count, whole)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def trend(days: list[tuple[str, int, float | None]], width: int = 560, height: int = 180) -> str:
    """A program's per-day trend as inline SVG: bars for the SMS sent, a line for the delivery rate."""
    left, bottom, top = 40, 30, 12
    plot_w, plot_h = width - left - 40, height - bottom - top
    most = max((sent for _, sent, _ in days), default=0) or 1
    step = plot_w / max(len(days), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">'
    ]
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>'
    )
    points = []
    for i, (day, sent, rate) in enumerate(days):
        x = left + i * step
        h = plot_h * sent / most
        parts.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
            f'height="{h:.1f}" fill="#b0bec5"><title>{_e(day)}: {sent:,} sent</title></rect>'
            f'<text x="{x + step / 2:.1f}" y="{top + plot_h - 4:.1f}" text-anchor="middle" class="small">{sent:,} sent</text>'
            f'<text x="{x + step / 2:.1f}" y="{height - 10}" text-anchor="middle" class="small">{_e(day[5:])}</text>'
        )
        if rate is not None:
            y = top + plot_h * (1 - rate)
            points.append(f"{x + step / 2:.1f},{y:.1f}")
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{y - 6:.1f}" text-anchor="middle" class="small">{100 * rate:.1f}%</text>'
            )
    if points:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#2e7d32" stroke-width="2"/>')
    parts.append(f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" class="small">100%</text>')
    parts.append(f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" class="small">0%</text>')
    parts.append("</svg>")
    return "".join(parts)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 980px; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; }
td:nth-child(2) { white-space: normal; }
.tiles { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 1rem 0; }
.tile { border: 1px solid #ddd; border-radius: 6px; padding: 0.6rem 1rem; min-width: 8rem; }
.tile b { display: block; font-size: 1.5rem; }
.chart text { font-size: 12px; fill: #333; } .chart .small { font-size: 10px; }
.muted { color: #777; }
"""


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def launch_page(launch: Launch) -> str:
    """One launch as the reporting tab shows it."""
    tiles = [
        ("Sent", f"{launch.sent:,}"),
        ("Delivery rate", f"{100 * launch.delivery_rate:.1f}%" if launch.delivery_rate is not None else "-"),
        ("Unsubscribed", f"{launch.unsubscribed:,}"),
        ("Hard bounced", f"{launch.hard_bounced:,}"),
        ("Soft bounced", f"{launch.soft_bounced:,}"),
        ("Unknown delivery", f"{launch.unknown_delivery:,}"),
    ]
    statuses = [(s, launch.statuses.get(s, 0), STATUS_COLOURS.get(s, "#607d8b")) for s in reached_statuses()]
    reasons = [(r, launch.reasons.get(r, 0), REASON_COLOUR) for r in not_sent_reasons()]
    funnel = [
        ("launch list", launch.launch_list_size, "#78909c"),
        ("sent", launch.sent, "#42a5f5"),
        ("delivered", launch.delivered, STATUS_COLOURS["delivery_successful"]),
    ]
    body = (
        '<p><a href="index.html">← all campaigns</a></p>'
        f"<h1>{_e(launch.title)}</h1>"
        f'<p class="muted">launch {_e(launch.launch_id)} · campaign {_e(launch.campaign_id)} · '
        f"{_e(launch.campaign_type)}{' · program ' + _e(launch.program_id) if launch.program_id else ''} · "
        f"launched {_e(launch.launched_at)}</p>"
        '<div class="tiles">'
        + "".join(f'<div class="tile">{_e(k)}<b>{_e(v)}</b></div>' for k, v in tiles)
        + "</div>"
        '<h2>Delivery funnel</h2><p class="muted">shares of the launch list</p>'
        + bars(funnel, launch.launch_list_size)
        + f"<h2>Number of SMS not sent</h2><p>{launch.not_sent:,} of the original launch list of "
        f"{launch.launch_list_size:,} contacts (shares of the launch list)</p>"
        + bars(reasons, launch.launch_list_size)
        + f"<h2>Number of contacts reached</h2><p>{launch.sent:,} sent (shares of the SMS sent)</p>"
        + bars(statuses, launch.sent)
        + f'<p class="muted">{launch.opted_out_by_keyword:,} opted out by keyword</p>'
    )
    return _page(f"{launch.title} ({launch.launch_id})", body)


def _launch_rows(launches: list[Launch]) -> str:
    head = "<tr><th>launch</th><th>campaign</th><th>launched</th><th>list</th><th>sent</th><th>delivery rate</th><th>unsubscribed</th><th>hard</th><th>soft</th><th>unknown</th></tr>"
    rows = "".join(
        f'<tr><td><a href="{_e(launch.page)}">{_e(launch.launch_id)}</a></td><td>{_e(launch.title)}</td>'
        f"<td>{_e(launch.launched_at.date() if launch.launched_at else '')}</td><td>{launch.launch_list_size:,}</td>"
        f"<td>{launch.sent:,}</td><td>{_pct(launch.delivered, launch.sent)}</td><td>{launch.unsubscribed:,}</td>"
        f"<td>{launch.hard_bounced:,}</td><td>{launch.soft_bounced:,}</td><td>{launch.unknown_delivery:,}</td></tr>"
        for launch in launches
    )
    return f"<table>{head}{rows}</table>"


def program_trend(launches: list[Launch]) -> list[tuple[str, int, float | None]]:
    """A program's launches per day of launch: (day, sent, delivery rate), oldest first."""
    sent: dict[str, int] = defaultdict(int)
    delivered: dict[str, int] = defaultdict(int)
    for launch in launches:
        day = launch.launched_at.date().isoformat() if launch.launched_at else "unknown"
        sent[day] += launch.sent
        delivered[day] += launch.delivered
    return [(day, sent[day], delivered[day] / sent[day] if sent[day] else None) for day in sorted(sent)]


def index_page(launches: list[Launch], generated: dt.datetime) -> str:
    """Batch campaigns and automated programs, apart, as the reporting tab lists them."""
    batch = [launch for launch in launches if launch.campaign_type != "automated"]
    programs: dict[str, list[Launch]] = defaultdict(list)
    for launch in launches:
        if launch.campaign_type == "automated":
            programs[launch.program_id or launch.campaign_id].append(launch)
    body = f'<h1>SMS campaigns</h1><p class="muted">from the published marts, {_e(generated.isoformat(timespec="seconds"))}</p>'
    body += f"<h2>Batch campaigns ({len(batch)})</h2>" + (_launch_rows(batch) if batch else "<p>none</p>")
    body += f"<h2>Automated programs ({len(programs)})</h2>"
    for program, runs in sorted(programs.items()):
        body += (
            f"<h3>Program {_e(program)}</h3><p>{len(runs)} launch(es): the SMS sent per day of launch "
            "(bars) and the delivery rate (line)</p>"
        )
        body += trend(program_trend(runs)) + _launch_rows(runs)
    return _page("SMS campaigns", body)


def write_report(launches: list[Launch], index: Path, generated: dt.datetime | None = None) -> Path:
    """Write every launch's page beside `index`, then the index (last, so that its links always
    lead somewhere)."""
    for launch in launches:
        write_text_atomically(launch_page(launch), index.with_name(launch.page))
    write_text_atomically(index_page(launches, generated or dt.datetime.now(dt.UTC)), index)
    return index


def summary_markdown(launches: list[Launch], limit: int = INLINE_LIMIT) -> str:
    """The latest launches as a markdown table short enough for the UI to show inline."""
    trailer = "\n_and {} more launches in the report_"
    room = limit - len(trailer.format(len(launches)))
    text, shown = "| launch | sent | delivered | unsub | hard | soft |\n|---|---|---|---|---|---|\n", 0
    for launch in launches:
        line = (
            f"| {launch.launch_id} | {launch.sent:,} | {_pct(launch.delivered, launch.sent)} | "
            f"{launch.unsubscribed:,} | {launch.hard_bounced:,} | {launch.soft_bounced:,} |\n"
        )
        if len(text) + len(line) > room:
            break
        text, shown = text + line, shown + 1
    rest = len(launches) - shown
    return text + (trailer.format(rest) if rest else "")
