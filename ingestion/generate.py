"""A synthetic landing zone in the contract's formats, vectorised (numpy + Polars).

It exercises every outcome, reached status, not-sent reason and receipt quirk
at realistic proportions: most messages delivered, receipts spread over days,
a few late, duplicated, out of order, or landing before their send-log row;
retries (one logged in the same microsecond), credit blocks beside a sent or a
filtered row, link clicks from contacts not sent to, stop keywords inside and
past the attribution window; re-delivered files; a few malformed rows for the
quarantine.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

START = dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)
PROVIDERS = ("smsc-eu-1", "smsc-eu-2", "smsc-us-1")
PERMANENT_ERRS = ("1", "001", "5", "005", "9", "11", "012")
TEMPORARY_ERRS = ("27", "034", "069", "0")
STOP_TEXTS = (
    "STOP",
    "stop",
    "Stop!",
    "  STOP please",
    "ARRET.",
    "stopall",
    "Unsubscribe",
    "«cancel»",
    "QUIT",
    "End",
)
STOP_DELAYS = (
    dt.timedelta(hours=20),
    dt.timedelta(days=3),
    dt.timedelta(days=6, hours=22),
    dt.timedelta(days=8),
)
STOP_DELAY_P = [0.6, 0.15, 0.15, 0.1]
NAMES = (
    "Black Friday / -30%",
    'Winter "Sale", FR',
    "Relance panier 🛒",
    "Ünïcode ✓ newsletter",
    "VIP, early access",
)


def _choice(rng: np.random.Generator, values: tuple, n: int, p: list[float] | None = None) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), n, p=p)]


def _lists(columns: dict[str, np.ndarray]) -> dict[str, object]:
    """numpy object arrays (strings with None) become lists, which Polars types as String."""
    return {k: v.tolist() if v.dtype == object else v for k, v in columns.items()}


def _iso(col: str | pl.Expr, paris: pl.Expr | None = None) -> pl.Expr:
    """ISO-8601 text: in Paris time with its offset where `paris` is true, else UTC with `Z`."""
    ts = pl.col(col) if isinstance(col, str) else col
    utc = ts.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
    local = ts.dt.convert_time_zone("Europe/Paris").dt.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
    return utc if paris is None else pl.when(paris).then(local).otherwise(utc)


def _phones(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw phone texts as contacts store them, and whether each is a valid number."""
    second = _choice(rng, ("0", "1", "2", "4", "5", "6", "7", "8"), n)
    rest = rng.integers(0, 10_000_000, n)
    d = pl.Series(second.astype(str)) + pl.Series(rest).cast(pl.String).str.zfill(7)
    shapes = rng.choice(6, n, p=[0.35, 0.2, 0.15, 0.15, 0.1, 0.05])

    def grouped(prefix: str, sep: str) -> pl.Series:  # "06.12.34.56.78" style
        parts = [d.str.slice(i, 2) for i in range(0, 8, 2)]
        return prefix + parts[0] + sep + parts[1] + sep + parts[2] + sep + parts[3]

    forms = [
        grouped("+33 6 ", " "),
        "06" + d,
        grouped("06.", "."),
        "00336" + d,
        "+336" + d,
        "+44 7400 " + d.str.slice(2, 6),
    ]
    raw = np.select([shapes == i for i in range(6)], [f.to_numpy() for f in forms]).astype(object)
    broken = rng.random(n)
    raw[broken < 0.01] = "12345"
    raw[(broken >= 0.01) & (broken < 0.015)] = ""
    return raw, broken >= 0.015


def _launches(rng: np.random.Generator, contacts: int, days: int) -> pl.DataFrame:
    n_batch = int(np.clip(contacts // 120_000, 3, 8))
    rows = []
    for i in range(n_batch):
        at = START + dt.timedelta(days=int(i % days), hours=int(rng.integers(0, 10)))
        rows.append((f"cmp-b{i:02d}", NAMES[i % len(NAMES)], "batch", None, at))
    for p in range(2):
        for day in range(days):
            at = START + dt.timedelta(days=day, hours=2 + p * 6)
            rows.append((f"cmp-a{p}", f"Automation {p}: welcome/relance", "automated", f"prog-{p}", at))
    frame = pl.DataFrame(
        rows,
        schema=["campaign_id", "campaign_name", "campaign_type", "program_id", "launched_at"],
        orient="row",
    )
    weights = np.where(frame["campaign_type"].to_numpy() == "batch", 4.0, 1.0) * rng.uniform(
        0.5, 1.5, frame.height
    )
    sizes = np.maximum(1, np.floor(weights / weights.sum() * contacts)).astype(int)
    sizes[0] += contacts - sizes.sum()
    return frame.with_columns(
        pl.format("ln-{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(4)).alias("launch_id"),
        pl.Series("launch_list_size", sizes),
        pl.format("lev-{}", pl.int_range(pl.len())).alias("event_id"),
    )


CHUNK_ROWS = 500_000  # launch-list rows turned into feeds and written at a time


@dataclass
class _Lists:
    """Every launch-list row's draws, as flat arrays (a few bytes per row): what a chunk is cut from."""

    launches: pl.DataFrame
    raw_phone: np.ndarray
    contact_idx: np.ndarray
    launch_idx: np.ndarray
    credit: np.ndarray
    filter_reason: np.ndarray
    submit_result: np.ndarray
    logged_at: np.ndarray
    provider: np.ndarray
    segments: np.ndarray

    @property
    def rows(self) -> int:
        return self.contact_idx.size


def _draw_lists(rng: np.random.Generator, contacts: int, days: int) -> _Lists:
    base = max(contacts // 3, 10)
    raw_phone, valid = _phones(rng, base)
    launches = _launches(rng, contacts, days)
    sizes = launches["launch_list_size"].to_numpy()
    contact_idx = np.concatenate([rng.choice(base, min(s, base), replace=False) for s in sizes])
    launch_idx = np.repeat(np.arange(launches.height), np.minimum(sizes, base))
    n = contact_idx.size

    u = rng.random(n)
    filt = np.where(~valid[contact_idx], "invalid_number", None).astype(object)
    filt[(u >= 0.02) & (u < 0.03)] = "hard_bounce"
    filt[(u >= 0.03) & (u < 0.04)] = "opted_out"
    r = rng.random(n)
    submit = np.where(r < 0.01, "provider_error", np.where(r < 0.03, "accepted_no_dlr", "accepted")).astype(
        object
    )
    submit[filt != None] = None  # noqa: E711 - numpy elementwise
    launched = launches["launched_at"].to_numpy()[launch_idx]
    logged = launched + (rng.random(n) * 3600e6).astype("timedelta64[us]")
    return _Lists(
        launches, raw_phone, contact_idx, launch_idx, u < 0.02, filt, submit, logged,
        _choice(rng, PROVIDERS, n, [0.6, 0.3, 0.1]), _choice(rng, (1, 2, 3), n, [0.85, 0.12, 0.03]).astype(np.int64),
    )  # fmt: skip


def _chunk(lists: _Lists, lo: int, hi: int) -> pl.DataFrame:
    """Launch-list rows `lo` to `hi` as a frame; `row` is the row's number in the whole list."""
    launches, idx = lists.launches, lists.launch_idx[lo:hi]
    return pl.DataFrame(
        _lists(
            {
                "launch_idx": idx,
                "launch_id": launches["launch_id"].to_numpy()[idx],
                "campaign_id": launches["campaign_id"].to_numpy()[idx],
                "contact_id": np.char.add("ct-", np.char.zfill(lists.contact_idx[lo:hi].astype(str), 7)),
                "phone": lists.raw_phone[lists.contact_idx[lo:hi]],
                "credit": lists.credit[lo:hi],
                "filter_reason": lists.filter_reason[lo:hi],
                "submit_result": lists.submit_result[lo:hi],
                "logged_at": lists.logged_at[lo:hi],
                "provider": lists.provider[lo:hi],
                "segments": lists.segments[lo:hi],
            }
        ),
        schema_overrides={"logged_at": pl.Datetime("us", "UTC")}
        | {
            c: pl.String
            for c in (
                "launch_id",
                "campaign_id",
                "contact_id",
                "phone",
                "filter_reason",
                "submit_result",
                "provider",
            )
        },
    ).with_row_index("row", offset=lo)


def chunks(
    contacts: int, days: int = 7, seed: int = 7, size: int = CHUNK_ROWS
) -> Iterator[dict[str, pl.DataFrame]]:
    """Every feed as frames with an `_arrival` date column (the landing partition), `size`
    launch-list rows at a time; the launches come with the first chunk."""
    rng = np.random.default_rng(seed)
    lists = _draw_lists(rng, contacts, days)
    send_log_ids = 0
    for lo in range(0, lists.rows, size):
        feeds = _feeds(rng, _chunk(lists, lo, min(lo + size, lists.rows)), days, send_log_ids, first=lo == 0)
        send_log_ids += feeds["send_logs"].height
        if lo == 0:
            feeds = {"launches": _launch_feed(lists.launches)} | feeds
        yield feeds


def generate(
    out: Path, contacts: int, days: int = 7, seed: int = 7, chunk_rows: int = CHUNK_ROWS
) -> dict[str, int]:
    """Write a landing zone of `contacts` launch-list rows, `chunk_rows` at a time: memory stays
    that of one chunk plus a few bytes per row, whatever the size. Returns rows per feed."""
    counts: dict[str, int] = {}
    for part, feeds in enumerate(chunks(contacts, days, seed, chunk_rows)):
        for feed, rows in write_landing(feeds, out, part).items():
            counts[feed] = counts.get(feed, 0) + rows
        if part == 0:
            _write_bad_rows(out, feeds)
    return counts


def _launch_feed(launches: pl.DataFrame) -> pl.DataFrame:
    return launches.select(
        "event_id",
        "launch_id",
        "campaign_id",
        "campaign_name",
        "campaign_type",
        "program_id",
        "launched_at",
        "launch_list_size",
        pl.col("launched_at").dt.date().alias("_arrival"),
    ).with_columns(  # one launch declares a list one larger than it has: a WARN for the checks
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.col("launch_list_size") + 1)
        .otherwise(pl.col("launch_list_size"))
        .alias("launch_list_size")
    )


def _feeds(
    rng: np.random.Generator, rows: pl.DataFrame, days: int, send_log_ids: int, first: bool
) -> dict[str, pl.DataFrame]:
    """The feeds of a chunk of launch-list rows; send-log event ids continue from `send_log_ids`."""
    n = rows.height
    credit_rows = rows.filter(pl.col("credit"))
    # a few credit-blocked contacts were sent later anyway (balance topped up): they count as sent;
    # a few others were also filtered on another attempt: the credit block is their reason
    topped_up = credit_rows.filter(pl.col("row") % 10 == 0)
    filtered_too = credit_rows.filter(pl.col("row") % 10 == 5).with_columns(
        pl.lit("opted_out").alias("filter_reason"), pl.lit(None, pl.String).alias("submit_result")
    )
    sends = pl.concat(
        [
            rows.filter(~pl.col("credit")),
            topped_up.with_columns(pl.lit(None).alias("filter_reason")),
            filtered_too,
        ]
    )
    sends = sends.with_columns(
        pl.when(pl.col("filter_reason").is_null() & pl.col("submit_result").is_null())
        .then(pl.lit("accepted"))
        .otherwise(pl.col("submit_result"))
        .alias("submit_result")
    )
    sends = sends.with_columns(
        pl.when(pl.col("submit_result") == "accepted")
        .then(pl.format("{}-{}", pl.col("launch_idx"), pl.col("row")))
        .alias("provider_message_id"),
        pl.when(pl.col("submit_result").is_in(["accepted", "accepted_no_dlr"]))
        .then(pl.col("segments"))
        .otherwise(0)
        .alias("segments"),
    )
    # retries: an earlier provider_error row for 0.5% of accepted contacts
    retries = sends.filter((pl.col("submit_result") == "accepted") & (pl.col("row") % 200 == 7)).with_columns(
        pl.lit("provider_error").alias("submit_result"),
        pl.lit(None, pl.String).alias("provider_message_id"),
        pl.lit(0, pl.Int64).alias("segments"),
        (pl.col("logged_at") - pl.duration(minutes=5)).alias("logged_at"),
    )
    # and a provider_error row logged in the same microsecond for 0.4%: the greatest event_id decides
    tied = sends.filter((pl.col("submit_result") == "accepted") & (pl.col("row") % 250 == 19)).with_columns(
        pl.lit("provider_error").alias("submit_result"),
        pl.lit(None, pl.String).alias("provider_message_id"),
        pl.lit(0, pl.Int64).alias("segments"),
    )
    sends = pl.concat([sends, retries, tied]).with_columns(
        pl.format("sl-{}", pl.int_range(pl.len()) + send_log_ids).alias("event_id"),
        # 1% of send-log rows land the next day, after some of their receipts
        (pl.col("logged_at").dt.date() + pl.duration(days=(pl.col("row") % 100 == 3).cast(pl.Int32))).alias(
            "_arrival"
        ),
    )
    send_logs = sends.select(
        "event_id", "logged_at", "launch_id", "campaign_id", "contact_id", "phone", "filter_reason",
        "submit_result", "provider", "provider_message_id", "segments", "_arrival",
    )  # fmt: skip

    credit_blocks = credit_rows.select(
        pl.format("cb-{}", pl.col("row")).alias("event_id"),
        (pl.col("logged_at") - pl.duration(minutes=1)).alias("blocked_at"),
        "launch_id", "campaign_id", "contact_id", "phone",
        pl.lit(3).alias("balance_credits"), pl.col("segments").alias("required_credits"),
        pl.col("logged_at").dt.date().alias("_arrival"),
    )  # fmt: skip

    dlrs = _receipts(rng, sends.filter(pl.col("submit_result") == "accepted"))
    sent = sends.filter(pl.col("submit_result").is_not_null() & (pl.col("submit_result") != "provider_error"))
    # a few clicks come from contacts the launch did not send to (a forwarded link): not counted
    forwarded = sends.filter(pl.col("filter_reason").is_not_null() & (pl.col("row") % 20 == 11))
    unsub = pl.concat([sent.filter(pl.col("row") % 200 == 11), forwarded]).select(
        pl.format("un-{}", pl.col("row")).alias("event_id"),
        (pl.col("logged_at") + pl.duration(hours=3)).alias("occurred_at"),
        "launch_id", "contact_id",
    )  # fmt: skip
    stops = sent.filter(pl.col("row") % 300 == 13).with_columns(
        pl.Series("text", _choice(rng, STOP_TEXTS, n).tolist(), dtype=pl.String).head(
            sent.filter(pl.col("row") % 300 == 13).height
        )
    )
    inbound = pl.concat(
        [
            stops.select(
                pl.format("in-{}", pl.col("row")).alias("event_id"),
                # most within a day; some days later, a few after the 7-day attribution window
                (
                    pl.col("logged_at")
                    + pl.Series(
                        _choice(rng, STOP_DELAYS, stops.height, STOP_DELAY_P).tolist(),
                        dtype=pl.Duration("us"),
                    )
                ).alias("received_at"),
                pl.col("phone").alias("from_phone"),
                pl.lit("BRAND").alias("to_sender"),
                "text",
            ),
            pl.DataFrame(
                {
                    "event_id": ["in-x1", "in-x2", "in-x3"],
                    "received_at": [START + dt.timedelta(hours=30)] * 3,
                    "from_phone": ["+33 7 99 99 99 99", "06 12 00 00 01", "+33 6 11 11 11 11"],
                    "to_sender": ["BRAND"] * 3,
                    "text": ["STOP", "Merci !", "stop."],  # unattributable, not a keyword, unattributable
                },
                schema_overrides={"received_at": pl.Datetime("us", "UTC")},
            ).head(3 if first else 0),
        ]
    )
    out = {
        "send_logs": send_logs,
        "credit_blocks": credit_blocks,
        "dlrs": dlrs,
        "unsubscribes": unsub.with_columns(pl.col("occurred_at").dt.date().alias("_arrival")),
        "inbound_sms": inbound.with_columns(pl.col("received_at").dt.date().alias("_arrival")),
    }
    last = (START + dt.timedelta(days=days + 3)).date()
    # stop keywords go on arriving after the last receipts: some fall past the attribution window
    return {k: v if k == "inbound_sms" else v.filter(pl.col("_arrival") <= last) for k, v in out.items()}


def _receipts(rng: np.random.Generator, accepted: pl.DataFrame) -> pl.DataFrame:
    n = accepted.height
    u = rng.random(n)
    bins = np.cumsum([0.92, 0.025, 0.005, 0.015, 0.003, 0.01])
    states = np.array(["DELIVRD", "UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNKNOWN", None], dtype=object)
    final = states[np.searchsorted(bins, u, side="right")]
    errs = np.where(rng.random(n) < 0.5, _choice(rng, PERMANENT_ERRS, n), _choice(rng, TEMPORARY_ERRS, n))
    errs = np.where(np.isin(final, ["UNDELIV", "REJECTD"]), errs, "000").astype(object)
    minutes = np.where(rng.random(n) < 0.9, rng.exponential(2, n), rng.exponential(600, n))
    minutes = np.where(rng.random(n) < 0.02, minutes + rng.uniform(1440, 4320, n), minutes)  # late: days
    base = accepted.select("provider", "provider_message_id", "logged_at").with_columns(
        pl.Series("stat", final.tolist(), dtype=pl.String),
        pl.Series("err", errs.tolist(), dtype=pl.String),
        (pl.col("logged_at") + pl.Series((minutes * 60e6).astype("timedelta64[us]"))).alias("done_at"),
    )
    interim = base.filter(pl.Series(rng.random(n) < 0.15)).with_columns(
        pl.lit("ENROUTE").alias("stat"), pl.lit("000").alias("err"),
        (pl.col("logged_at") + pl.duration(seconds=20)).alias("done_at"),
    )  # fmt: skip
    # 0.3% get an earlier EXPIRED before their real final: the latest done_at must win
    early = base.filter(pl.col("stat").is_not_null() & pl.Series(rng.random(n) < 0.003)).with_columns(
        pl.lit("EXPIRED").alias("stat"), (pl.col("done_at") - pl.duration(seconds=30)).alias("done_at")
    )
    orphans = (
        base.filter(pl.col("stat").is_not_null())
        .head(max(1, n // 1000))
        .with_columns(pl.format("orphan-{}", pl.col("provider_message_id")).alias("provider_message_id"))
    )
    recs = pl.concat([base.filter(pl.col("stat").is_not_null()), interim, early, orphans])
    recs = recs.with_columns((pl.col("done_at") + pl.duration(seconds=3)).alias("received_at"))
    dups = recs.filter(pl.Series(rng.random(recs.height) < 0.01))
    recs = pl.concat([recs, dups]).sample(fraction=1.0, shuffle=True, seed=int(rng.integers(1 << 31)))
    m = recs.height
    smpp = pl.Series(rng.random(m) < 0.5)
    return recs.with_columns(
        smpp.alias("_smpp"),
        pl.Series("_quirk", rng.integers(0, 9, m)),
        pl.col("received_at").dt.date().alias("_arrival"),
    )


def _smpp_text(frame: pl.DataFrame) -> pl.Expr:
    q = pl.col("_quirk")
    yymm = pl.col("done_at").dt.strftime("%y%m%d%H%M")
    sub_at = pl.col("logged_at").dt.strftime("%y%m%d%H%M")
    stat = pl.when(q == 1).then(pl.col("stat").str.to_lowercase()).otherwise(pl.col("stat"))
    err = pl.when(q == 2).then(pl.col("err").cast(pl.Int64).cast(pl.String)).otherwise(pl.col("err"))
    mid = (
        pl.when(q == 4)
        .then(pl.format(" {} ", pl.col("provider_message_id")))
        .otherwise(pl.col("provider_message_id"))
    )
    standard = pl.format(
        "id:{} sub:001 dlvrd:001 submit date:{} done date:{} stat:{} err:{} text:Bonjour, \"{}\" offre",
        mid, sub_at, yymm, stat, err, pl.col("stat"),
    )  # fmt: skip
    long_date = pl.col("done_at").dt.strftime("%Y%m%d%H%M%S")
    # SMPP's absolute time: local time 2 hours ahead of UTC, 8 quarter hours, "+"
    absolute = (pl.col("done_at") + pl.duration(hours=2)).dt.strftime("%y%m%d%H%M%S") + "008+"
    return (
        pl.when(q == 0).then(standard)
        .when(q == 1).then(pl.format("ID:{}  SUB:001   DLVRD:001 Submit Date:{} Done Date:{} Stat:{} Err:{} Text:x",
                                     mid, sub_at, yymm, stat, err))
        .when(q == 2).then(pl.format("stat:{} err:{} id:{} done date:{}00", stat, err, mid, yymm))
        .when(q == 3).then(pl.format("id:{} submit date:{} done date:{} stat:{} err:{}", mid, sub_at, yymm, stat, err))
        # gateways' quirks: text glued before id:, dates without their space, 14 digits, NUL padding
        .when(q == 5).then(pl.format("33612345678#id:{} submitdate:{} donedate:{} stat:{} err:{}\u0000\u0000",
                                     pl.col("provider_message_id"), sub_at, long_date, stat, err))
        .when(q == 6).then(pl.format("Sender^id:{} done date:{} stat:{} err:{}",
                                     pl.col("provider_message_id"), absolute, stat, err))
        # no done date (all zeros): the receipt still decides, placed by when it was received
        .when(q == 7).then(pl.format("id:{} done date:0000000000 stat:{} err:{}", mid, stat, err))
        .otherwise(standard)
    )  # fmt: skip


def _dlr_lines(dlrs: pl.DataFrame) -> pl.Series:
    structured = pl.struct(
        _iso("received_at").alias("received_at"),
        "provider",
        "provider_message_id",
        "stat",
        "err",
        _iso("done_at", pl.col("_quirk") % 2 == 0).alias("done_at"),
    ).struct.json_encode()
    raw = pl.struct(
        _iso("received_at").alias("received_at"), "provider", _smpp_text(dlrs).alias("receipt")
    ).struct.json_encode()
    return dlrs.select(pl.when(pl.col("_smpp")).then(raw).otherwise(structured)).to_series()


def _jsonl(frame: pl.DataFrame) -> pl.Series:
    cols = []
    for name, dtype in frame.schema.items():
        if name.startswith("_") or name == "row":
            continue
        cols.append(_iso(name, pl.col("event_id").str.len_chars() % 2 == 0).alias(name) if dtype == pl.Datetime(
            "us", "UTC") else pl.col(name))  # fmt: skip
    return frame.select(pl.struct(cols).struct.json_encode()).to_series()


def _write_text(path: Path, lines: list[str], gz: bool, bom: bool = False, crlf: bool = False) -> None:
    sep = "\r\n" if crlf else "\n"
    data = (("\ufeff" if bom else "") + sep.join(lines) + sep).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)
    tmp.rename(path)


def write_landing(feeds: dict[str, pl.DataFrame], out: Path, part: int = 0) -> dict[str, int]:
    """Write the feeds as the platform would: per arrival day, in every allowed format.

    A day's format follows its distance from the first launch day, so every chunk of a
    large landing writes a day alike; chunks after the first add `-<part>` to the names."""
    counts: dict[str, int] = {}
    tag = f"-{part:02d}" if part else ""
    for feed, frame in feeds.items():
        counts[feed] = frame.height
        for (day,), rows in frame.group_by("_arrival"):
            i = (day - START.date()).days
            folder = out / feed / f"date={day.isoformat()}"
            if feed == "send_logs":
                _write_send_logs(rows, folder, i, tag)
                continue
            lines = (_dlr_lines(rows) if feed == "dlrs" else _jsonl(rows)).to_list()
            name = f"{feed}-{i:03d}{tag}.jsonl" + (".gz" if i % 2 else "")
            _write_text(folder / name, lines, gz=bool(i % 2))
            if feed == "dlrs" and i == 1:  # the provider re-delivered a file under a new name
                _write_text(
                    folder / f"dlrs-redelivered{tag}.jsonl", lines[: max(1, len(lines) // 10)], gz=False
                )
    return counts


def _write_send_logs(part: pl.DataFrame, folder: Path, i: int, tag: str) -> None:
    cols = [c for c in part.columns if not c.startswith("_") and c != "row"]
    frame = part.select(cols)
    if i % 3 == 2:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"send_logs{tag}.parquet"
        frame.write_parquet(target.with_name(target.name + ".tmp"))
        target.with_name(target.name + ".tmp").rename(target)
        return
    text = frame.with_columns(_iso("logged_at", pl.col("segments") == 2).alias("logged_at")).write_csv(
        quote_style="necessary"
    )
    lines = text.rstrip("\n").split("\n")
    _write_text(folder / (f"send_logs-{i:03d}{tag}.csv" + (".gz" if i % 3 == 1 else "")), lines, gz=i % 3 == 1,
                bom=i % 3 == 0, crlf=i % 3 == 0)  # fmt: skip


def _write_bad_rows(out: Path, feeds: dict[str, pl.DataFrame]) -> None:
    """A handful of malformed rows, so a sample run shows the quarantine at work."""
    day = feeds["dlrs"]["_arrival"].min()
    bad_dlrs = [
        '{"received_at": "2026-11-02T09:00:00Z", "provider": "smsc-eu-1", "receipt": "id:zz1 stat:FAILED err:000"}',
        '{"received_at": "2026-11-02T09:00:00", "provider": "smsc-eu-1", "provider_message_id": "zz2", "stat": "DELIVRD"}',
        '{"received_at": "2026-11-02T09:00:00Z", "provider": "smsc-eu-1", "receipt": "id:zz3 stat:DELIVRD',
    ]  # fmt: skip
    _write_text(out / "dlrs" / f"date={day}" / "dlrs-broken.jsonl", bad_dlrs, gz=False)
