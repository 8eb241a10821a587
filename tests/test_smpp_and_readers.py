"""Ingestion quirks of contract/landing.md, each pinned by a tiny file."""

import gzip
from pathlib import Path

import polars as pl
import pytest

from ingestion.ingest import ingest_partition
from ingestion.parse_text import _decode_slowly, parse_jsonl
from ingestion.phones import PhoneMemo, to_e164
from ingestion.smpp import parse_receipts
from ingestion.textfiles import split_lines
from tests.landing_builder import jsonl, send_logs_csv, write_file

pytestmark = pytest.mark.unit

DAY = "2026-11-03"


def _receipts(texts: list[str]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "receipt": texts,
            "provider_message_id": [None] * len(texts),
            "stat": [None] * len(texts),
            "err": [None] * len(texts),
            "done_at": [None] * len(texts),
            "_source_file": ["f"] * len(texts),
            "_line": list(range(1, len(texts) + 1)),
        },
        schema_overrides={c: pl.String for c in ("provider_message_id", "stat", "err", "done_at")},
    )
    return parse_receipts(frame)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "id:abc sub:001 dlvrd:001 submit date:2611030815 done date:2611030816 stat:DELIVRD err:000 text:hi",
            ("abc", "DELIVRD", "000", "2026-11-03T08:16:00+00:00"),
        ),
        (
            "ID:abc Stat:delivrd Err:0 Done Date:2611030816",
            ("abc", "DELIVRD", "0", "2026-11-03T08:16:00+00:00"),
        ),
        (
            "stat:UNDELIV   err:001  id:x-1 done date:261103081659",
            ("x-1", "UNDELIV", "001", "2026-11-03T08:16:59+00:00"),
        ),
        (
            'id:m7 done date:2611030816 stat:EXPIRED err:000 Text:stop:ENROUTE id:fake, "quoted"',
            ("m7", "EXPIRED", "000", "2026-11-03T08:16:00+00:00"),
        ),
        ("id: m8  stat:REJECTD", ("m8", "REJECTD", None, None)),
        # what real gateways send beyond the tidy shapes (landing.md)
        (
            "33612345678#id:g1 stat:DELIVRD err:000 done date:2611030816",
            ("g1", "DELIVRD", "000", "2026-11-03T08:16:00+00:00"),
        ),
        ("Sender^id:g2 stat:UNDELIV err:001", ("g2", "UNDELIV", "001", None)),
        (
            "id:g3 stat:UNDELIV err:001\x00\x00 done date:2611030816",
            ("g3", "UNDELIV", "001", "2026-11-03T08:16:00+00:00"),
        ),
        ("id:g4\x00 stat:DELI\x00VRD err:0", ("g4", "DELIVRD", "0", None)),
        (
            "id:g5 submitdate:2611030815 donedate:2611030816 stat:DELIVRD",
            ("g5", "DELIVRD", None, "2026-11-03T08:16:00+00:00"),
        ),
        ("id:g6 done date:20261103081659 stat:DELIVRD", ("g6", "DELIVRD", None, "2026-11-03T08:16:59+00:00")),
        ("id:g7 done date:202611030816 stat:DELIVRD", ("g7", "DELIVRD", None, "2026-11-03T08:16:00+00:00")),
        (
            "id:g8 done date:261103081659432+ stat:DELIVRD",
            ("g8", "DELIVRD", None, "2026-11-03T00:16:59.400+00:00"),
        ),
        (
            "id:g9 done date:261103081659012- stat:DELIVRD",
            ("g9", "DELIVRD", None, "2026-11-03T11:16:59+00:00"),
        ),
        ("id:g10 done date:0000000000 stat:DELIVRD", ("g10", "DELIVRD", None, None)),
        ("id:g11 done date:000000000000000+ stat:EXPIRED", ("g11", "EXPIRED", None, None)),
        ("id:g12 done date:2613450816 stat:DELIVRD", ("g12", "DELIVRD", None, None)),  # month 13: no date
        ("id:g13#stat:DELIVRD#err:000", ("g13", "DELIVRD", "000", None)),
    ],
    ids=[
        "standard",
        "any-case-missing-fields",
        "reordered-seconds",
        "free-text-after-text",
        "spaced-id-no-err",
        "glued-phone-number",
        "glued-sender-name",
        "nul-after-err",
        "nul-inside-values",
        "dates-without-space",
        "done-date-14-digits",
        "done-date-12-digits-yyyy",
        "done-date-absolute-ahead",
        "done-date-absolute-behind",
        "done-date-all-zeros",
        "done-date-absolute-zeros",
        "done-date-unreadable",
        "fields-glued-after-values",
    ],
)
def test_smpp_receipt_quirks(text: str, expected: tuple) -> None:
    row = _receipts([text]).row(0, named=True)
    assert (row["provider_message_id"], row["stat"], row["err"], row["done_at"]) == expected
    assert row["receipt_shape"] == "smpp"


def test_a_field_only_after_text_is_still_found_for_that_receipt_alone() -> None:
    frame = _receipts([
        "id:a1 done date:2611030816 stat:DELIVRD err:000 text:hi",
        "id:a2 done date:2611030817 text:late fields stat:UNDELIV err:012",  # only after text:
        "id:a3 done date:2611030818 stat:EXPIRED err:000 text:stat:DELIVRD",  # text never overrides
    ])  # fmt: skip
    got = frame.select("provider_message_id", "stat", "err", "done_at").rows()
    assert got == [
        ("a1", "DELIVRD", "000", "2026-11-03T08:16:00+00:00"),
        ("a2", "UNDELIV", "012", "2026-11-03T08:17:00+00:00"),
        ("a3", "EXPIRED", "000", "2026-11-03T08:18:00+00:00"),
    ]


def test_phone_normalisation_uses_default_region() -> None:
    assert to_e164("06 12 34 56 78") == "+33612345678"
    assert to_e164("0033612345678") == "+33612345678"
    assert to_e164("06.12.34.56.78") == "+33612345678"
    assert to_e164("+44 7400 123456") == "+447400123456"
    assert to_e164("12345") is None
    assert to_e164("") is None
    assert to_e164("07 400 123456", region="GB") == "+447400123456"


def test_csv_bom_crlf_gzip_and_quarantine_reconcile(tmp_path: Path) -> None:
    rows = [
        "e1,2026-11-03T08:15:02.120+01:00,L1,C1,c1,+33 6 12 34 56 78,,accepted,p,m1,1",
        "e1,2026-11-03T08:15:02.120+01:00,L1,C1,c1,+33 6 12 34 56 78,,accepted,p,m1,1",  # duplicate
        "e2,2026-11-03T08:15:02,L1,C1,c2,,,accepted,p,m2,1",  # no offset
        "e3,2026-11-03T08:15:02Z,L1,C1,c3,,,accepted,p,m3,-1",  # negative segments
        "e4,2026-11-03T08:15:02Z,L1,C1,c4,,,maybe,p,m4,1",  # unknown enum
        "e5,2026-11-03T08:15:02Z,L1,C1,c5,1",  # missing fields
        'e6,2026-11-03T08:15:02Z,L1,C1,c6,"06 12, 34",opted_out,,,,0',  # quoted comma
    ]
    text = "\ufeff" + send_logs_csv(rows).replace("\n", "\r\n")
    write_file(tmp_path, "send_logs", DAY, "a.csv.gz", text)
    result = ingest_partition(tmp_path, "send_logs", DAY)
    assert result.rows["event_id"].to_list() == ["e1", "e6"]
    assert result.rows["logged_at"][0].isoformat() == "2026-11-03T07:15:02.120000+00:00"
    reasons = dict(
        zip(result.quarantine["line"].to_list(), result.quarantine["reason"].to_list(), strict=True)
    )
    assert reasons[4] == "logged_at '2026-11-03T08:15:02' has no UTC offset"
    assert reasons[5] == "segments -1 is below 0"
    assert reasons[6].startswith("submit_result 'maybe' is not one of")
    assert reasons[7] == "expected 11 fields as in the header, found 6"
    files = result.files.row(0, named=True)
    assert (files["rows_read"], files["rows_kept"], files["duplicates"], files["quarantined"]) == (7, 2, 1, 4)


def test_broken_files_are_named_and_others_go_on(tmp_path: Path) -> None:
    good = jsonl(
        [{"event_id": "u1", "occurred_at": "2026-11-03T10:00:00Z", "launch_id": "L1", "contact_id": "c1"}]
    )
    write_file(tmp_path, "unsubscribes", DAY, "good.jsonl", good)
    write_file(tmp_path, "unsubscribes", DAY, "empty.jsonl", "")
    write_file(tmp_path, "unsubscribes", DAY, "garbage.jsonl", bytes(range(256)) * 4)
    (tmp_path / "unsubscribes" / f"date={DAY}" / "cut.jsonl.gz").write_bytes(
        gzip.compress(good.encode() * 50)[:-12]
    )
    write_file(tmp_path, "unsubscribes", DAY, "huge.jsonl", '{"event_id": "' + "x" * (2 << 20) + '"}\n')
    write_file(tmp_path, "unsubscribes", DAY, "latin1.jsonl", '{"event_id": "é"}\n'.encode("latin-1"))
    result = ingest_partition(tmp_path, "unsubscribes", DAY)
    # the good row, and once more from the truncated gzip that repeats it 50 times (the other 49, the
    # complete lines before the damage, are duplicates within that file)
    assert result.rows.height == 2
    errors = dict(zip(result.files["file"].to_list(), result.files["file_error"].to_list(), strict=True))
    assert errors[f"unsubscribes/date={DAY}/empty.jsonl"] == "empty file (0 bytes)"
    assert errors[f"unsubscribes/date={DAY}/cut.jsonl.gz"].startswith("truncated gzip")
    by_file = result.quarantine.group_by("file").agg(pl.col("reason").first())
    reasons = dict(by_file.iter_rows())
    assert "longer than" in reasons[f"unsubscribes/date={DAY}/huge.jsonl"]
    assert reasons[f"unsubscribes/date={DAY}/latin1.jsonl"].startswith("not UTF-8")
    assert reasons[f"unsubscribes/date={DAY}/garbage.jsonl"]
    for row in result.files.iter_rows(named=True):
        assert row["rows_read"] == row["rows_kept"] + row["duplicates"] + row["quarantined"], row


def test_parquet_with_wrong_types_is_quarantined_row_by_row(tmp_path: Path) -> None:
    folder = tmp_path / "send_logs" / f"date={DAY}"
    folder.mkdir(parents=True)
    pl.DataFrame(
        {
            "event_id": ["p1", "p2"],
            "logged_at": ["2026-11-03T08:00:00Z", "2026-11-03T08:00:00Z"],
            "launch_id": ["L1", "L1"], "campaign_id": ["C1", "C1"], "contact_id": ["c1", "c2"],
            "phone": ["0612345678", None], "filter_reason": [None, None],
            "submit_result": ["accepted", "accepted"], "provider": ["p", "p"],
            "provider_message_id": ["m1", "m2"], "segments": ["1", "two"],
        }
    ).write_parquet(folder / "x.parquet")  # fmt: skip
    result = ingest_partition(tmp_path, "send_logs", DAY)
    assert result.rows["event_id"].to_list() == ["p1"]
    assert result.rows["phone_e164"].to_list() == ["+33612345678"]
    assert result.quarantine["reason"].to_list() == ["segments 'two' is not an integer"]


def test_receipt_with_unknown_state_is_quarantined(tmp_path: Path) -> None:
    write_file(
        tmp_path, "dlrs", DAY, "r.jsonl",
        jsonl([
            {"received_at": "2026-11-03T10:00:00Z", "provider": "p", "receipt": "id:m1 stat:FAILED err:0"},
            {"received_at": "2026-11-03T10:00:00Z", "provider": "p", "receipt": "id:m1 stat:delivrd err:0"},
            {"received_at": "2026-11-03T10:00:00Z", "provider": "p", "receipt": "id:m1 stat:delivrd err:0"},
        ]),
    )  # fmt: skip
    result = ingest_partition(tmp_path, "dlrs", DAY)
    assert result.rows["stat"].to_list() == ["DELIVRD"]
    assert result.files["duplicates"].to_list() == [1]
    assert result.quarantine["reason"].to_list() == [
        "stat 'FAILED' is not one of ENROUTE/ACCEPTD/DELIVRD/UNKNOWN/EXPIRED/DELETED/UNDELIV/REJECTD"
    ]


def test_files_still_being_written_are_not_read(tmp_path: Path) -> None:
    """contract: a producer writes `name.tmp` and renames it; the .tmp is not ready yet."""
    row = {"event_id": "u1", "occurred_at": "2026-11-03T10:00:00Z", "launch_id": "L1", "contact_id": "c1"}
    write_file(tmp_path, "unsubscribes", DAY, "done.jsonl", jsonl([row]))
    write_file(tmp_path, "unsubscribes", DAY, "next.jsonl.tmp", jsonl([row | {"event_id": "u2"}]))
    result = ingest_partition(tmp_path, "unsubscribes", DAY)
    assert result.rows["event_id"].to_list() == ["u1"]
    assert result.files["file"].to_list() == [f"unsubscribes/date={DAY}/done.jsonl"]


def test_default_region_is_configurable(tmp_path: Path) -> None:
    """contract: a number without a country prefix uses the default region (SMS_DEFAULT_REGION, default FR)."""
    row = {
        "event_id": "i1",
        "received_at": "2026-11-03T10:00:00Z",
        "from_phone": "07400 123456",
        "text": "STOP",
    }
    write_file(tmp_path, "inbound_sms", DAY, "i.jsonl", jsonl([row]))
    in_gb = ingest_partition(tmp_path, "inbound_sms", DAY, PhoneMemo("GB"))
    assert in_gb.rows["from_phone_e164"].to_list() == ["+447400123456"]
    assert ingest_partition(tmp_path, "inbound_sms", DAY).rows["from_phone_e164"].to_list() == [None]  # FR


def test_csv_header_missing_or_extra_column(tmp_path: Path) -> None:
    """A header without `segments` sends every row of that file to quarantine, named; an extra column is ignored."""
    header = "event_id,logged_at,launch_id,campaign_id,contact_id,phone,filter_reason,submit_result,provider,provider_message_id"
    write_file(
        tmp_path,
        "send_logs",
        DAY,
        "a-missing.csv",
        header + "\ne1,2026-11-03T08:00:00Z,L,C,c1,,,accepted,p,m1\n",
    )
    write_file(
        tmp_path, "send_logs", DAY, "b-extra.csv",
        header + ",segments,note\ne2,2026-11-03T08:00:00Z,L,C,c2,,,accepted,p,m2,1,hello\n",
    )  # fmt: skip
    result = ingest_partition(tmp_path, "send_logs", DAY)
    assert result.rows["event_id"].to_list() == ["e2"]
    files = {r["file"].rsplit("/", 1)[1]: r for r in result.files.iter_rows(named=True)}
    assert files["a-missing.csv"]["file_error"] == "header (line 1) lacks column(s) segments"
    assert (files["a-missing.csv"]["rows_read"], files["a-missing.csv"]["quarantined"]) == (1, 1)
    assert files["b-extra.csv"]["file_error"] == "header has unexpected column(s) note: ignored"
    assert files["b-extra.csv"]["rows_kept"] == 1


def test_lines_are_numbered_as_in_the_file_whichever_reader_splits_them() -> None:
    data = b'\xef\xbb\xbf{"a":1}\r\n\r\n   \n{"b":"x\ry"}\n\t\n{"c":3}'
    fast = split_lines(data)
    assert fast.frame.rows() == [(1, '{"a":1}'), (4, '{"b":"x\ry"}'), (6, '{"c":3}')]
    # a line that is not UTF-8 sends the file through the line-by-line reader: same numbering
    slow = split_lines(data + b"\n\xe9\n")
    assert slow.frame.rows() == fast.frame.rows()
    assert [(line, reason[:10]) for line, _, reason in slow.rejects] == [(7, "not UTF-8 ")]


def test_json_lines_decode_alike_whole_or_line_by_line() -> None:
    columns = ["event_id", "launch_id", "n"]
    good = split_lines(
        b'{"event_id": "u1", "launch_id": "L1", "n": 1.50, "extra": {"x": 1}}\n'
        b'\n{"event_id": "u2", "launch_id": "{L2}", "n": true}\n'
    )
    fast, rejects = parse_jsonl(good, columns)
    assert rejects == []
    assert fast.rows() == [
        (1, '{"event_id": "u1", "launch_id": "L1", "n": 1.50, "extra": {"x": 1}}', "u1", "L1", "1.5"),
        (3, '{"event_id": "u2", "launch_id": "{L2}", "n": true}', "u2", "{L2}", "true"),
    ]
    assert fast.rows() == _decode_slowly(good.frame, columns)[0].rows()  # the same, line by line

    bad = split_lines(
        b'{"event_id": "u1"}\n[1, 2]\nnull\n{"event_id": "u4", "n": {"deep": 1}}\n{"event_id": "u5"\n'
    )
    kept, rejects = parse_jsonl(bad, columns)
    assert kept["event_id"].to_list() == ["u1"]
    assert [(line, reason) for line, _, reason in rejects] == [
        (2, "JSON value is a list, not an object"),
        (3, "JSON value is a NoneType, not an object"),
        (4, "field n is not a scalar value"),
        (5, "malformed JSON (Expecting ',' delimiter at column 18)"),
    ]
    # a file that is valid JSON throughout still has its object-valued field refused
    nested = split_lines(b'{"event_id": "u1"}\n{"event_id": "u2", "n": {"deep": 1}}\n')
    kept, rejects = parse_jsonl(nested, columns)
    assert kept["event_id"].to_list() == ["u1"]
    assert [(line, reason) for line, _, reason in rejects] == [(2, "field n is not a scalar value")]


TIMESTAMPS = [
    "2026-11-03T08:12:45.539Z",  # the usual shapes
    "2026-11-03T09:12:45.539+01:00",
    "2026-11-03T03:12:45-05:30",
    "2026-11-03T08:12:45Z",
    "2026-11-03T08:12:45.5Z",  # one to six digits of fraction
    "2026-11-03T08:12:45.123456+00:00",
    "2026-11-03T08:12:45.1234567Z",  # seven: the general parser's business
    "2026-01-01T00:30:00+01:00",  # the offset crosses a year
    "2024-02-29T12:00:00Z",  # a leap day
    "2026-02-29T12:00:00Z",  # not a leap year: no such day
    "2026-13-03T08:12:45Z",
    "2026-11-03T24:00:00Z",
    "2026-11-03T08:60:00Z",
    "2026-11-03T08:12:45+24:00",
    "2026-11-03 08:12:45Z",  # a space, a lower-case z, an offset without colon
    "2026-11-03T08:12:45z",
    "2026-11-03T08:12:45+0100",
    "2026-11-03T08:12:45",  # no offset
    "2026-11-03T08:12:45.Z",
    "26-11-03T08:12:45Z",
    "2026-11-03",
    "yesterday",
    "",
    None,
]


def test_the_usual_timestamp_shape_reads_as_the_general_parser_reads_it() -> None:
    """The fixed-position reader of the common shape and the general parser agree on every text."""
    from ingestion.validate import parse_any, parse_timestamp

    frame = pl.DataFrame({"t": TIMESTAMPS}, schema={"t": pl.String})
    both = frame.select(fast=parse_timestamp(pl.col("t")), general=parse_any(pl.col("t")))
    assert both["fast"].to_list() == both["general"].to_list()
    read = dict(zip(TIMESTAMPS, both["fast"].to_list(), strict=True))
    assert str(read["2026-11-03T03:12:45-05:30"]) == "2026-11-03 08:42:45+00:00"
    assert str(read["2026-11-03T08:12:45.5Z"]) == "2026-11-03 08:12:45.500000+00:00"
    assert str(read["2026-01-01T00:30:00+01:00"]) == "2025-12-31 23:30:00+00:00"
    assert read["2026-02-29T12:00:00Z"] is None and read["2026-11-03T08:12:45"] is None


def test_the_usual_timestamp_shape_agrees_on_random_instants() -> None:
    import random

    from ingestion.validate import parse_any, parse_timestamp

    rng = random.Random(3)
    texts = []
    for _ in range(5000):
        stamp = f"{rng.randint(1990, 2040):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 31):02d}T" + (
            f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        )
        digits = rng.randint(0, 6)
        stamp += "." + "".join(rng.choice("0123456789") for _ in range(digits)) if digits else ""
        minutes = rng.randint(-14 * 60, 14 * 60)
        sign = "-" if minutes < 0 else "+"
        texts.append(
            stamp + ("Z" if rng.random() < 0.3 else f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}")
        )
    frame = pl.DataFrame({"t": texts})
    both = frame.select(fast=parse_timestamp(pl.col("t")), general=parse_any(pl.col("t")))
    assert both["fast"].null_count() > 0  # some days do not exist (31 November...)
    assert both["fast"].to_list() == both["general"].to_list()
