"""The lake's phone memo: each raw number parsed once, across partitions, feeds and runs."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from ingestion import phones


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """Every key that reaches the parser (column-wise or `phonenumbers`)."""
    seen: list[str] = []
    parse_all = phones._parse_all
    monkeypatch.setattr(
        phones, "_parse_all", lambda keys, region: seen.extend(keys) or parse_all(keys, region)
    )
    return seen


def _e164(memo: phones.PhoneMemo, raw: list[str]) -> list[str | None]:
    frame = pl.DataFrame({"phone": raw, "row": range(len(raw))})
    out = memo.add_e164(frame, "phone", "phone_e164")
    assert out["row"].to_list() == list(range(len(raw)))  # rows keep their order
    return out["phone_e164"].to_list()


@pytest.mark.unit
def test_a_number_is_parsed_once_and_only_new_numbers_are_parsed(parsed: list[str]) -> None:
    memo = phones.PhoneMemo("FR")
    assert _e164(memo, ["06 12 34 56 78", "0612345678", "bogus"]) == ["+33612345678", "+33612345678", None]
    assert sorted(parsed) == ["0612345678", "bogus"]  # formatting stripped first: one key
    parsed.clear()
    # a later partition: two known keys, one new one, the known ones answered as before
    assert _e164(memo, ["bogus", "06.12.34.56.78", "+447400123456"]) == [
        None,
        "+33612345678",
        "+447400123456",
    ]
    assert parsed == ["+447400123456"]


@pytest.mark.unit
def test_the_saved_memo_answers_the_next_run(tmp_path: Path, parsed: list[str]) -> None:
    path = tmp_path / "_phones" / "region=FR.parquet"
    first = phones.PhoneMemo("FR", path)
    _e164(first, ["0612345678", "0698765432"])
    first.save()
    parsed.clear()
    second = phones.PhoneMemo("FR", path)
    assert _e164(second, ["0698765432", "0612345678"]) == ["+33698765432", "+33612345678"]
    assert parsed == []
    mtime = path.stat().st_mtime_ns
    second.save()  # learnt nothing: not written again
    assert path.stat().st_mtime_ns == mtime


@pytest.mark.unit
def test_two_memos_saving_the_same_file_keep_what_each_learnt(tmp_path: Path, parsed: list[str]) -> None:
    """Two feeds' memos loaded from one file; each saves what it learnt, neither loses the other's."""
    path = tmp_path / "region=FR.parquet"
    a, b = phones.PhoneMemo("FR", path), phones.PhoneMemo("FR", path)
    _e164(a, ["0611111111"])
    _e164(b, ["0622222222"])
    a.save()  # the file is as `a` read it (absent): written as is
    b.save()  # the file changed since `b` read it: merged
    _e164(a, ["0633333333"])
    a.save()  # changed again (by `b`): merged again
    saved = pl.read_parquet(path)
    assert sorted(saved["_phone_key"].to_list()) == ["0611111111", "0622222222", "0633333333"]
    assert saved["_phone_key"].is_unique().all()
    parsed.clear()
    assert _e164(phones.PhoneMemo("FR", path), ["0622222222", "0633333333"]) == [
        "+33622222222",
        "+33633333333",
    ]
    assert parsed == []


def test_a_run_reads_and_saves_the_memo_once_for_all_its_phone_feeds(
    tmp_path: Path, monkeypatch, parsed: list[str]
) -> None:
    """Send logs, credit blocks and inbound SMS share one memo: one read, one save, each number parsed once."""
    from ingestion import lake
    from orchestration.settings import WarehouseSettings
    from tests.landing_builder import jsonl, send_logs_csv, write_file
    from tests.warehouse import materialize_feeds

    landing, day = tmp_path / "landing", "2026-11-03"
    write_file(landing, "send_logs", day, "s.csv", send_logs_csv([
        "e1,2026-11-03T08:00:00Z,L1,C1,c1,06 12 34 56 78,,accepted,p,m1,1",
    ]))  # fmt: skip
    write_file(landing, "credit_blocks", day, "c.jsonl", jsonl([
        {"event_id": "b1", "blocked_at": "2026-11-03T08:00:00Z", "launch_id": "L1", "campaign_id": "C1",
         "contact_id": "c2", "phone": "0612345678", "balance_credits": 0, "required_credits": 1},
    ]))  # fmt: skip
    write_file(landing, "inbound_sms", day, "i.jsonl", jsonl([
        {"event_id": "i1", "received_at": "2026-11-03T09:00:00Z", "from_phone": "+33 6 98 76 54 32",
         "to_sender": "S", "text": "STOP"},
    ]))  # fmt: skip
    settings = WarehouseSettings(data_dir=str(tmp_path), landing_dir=str(landing))
    memo = lake.phone_cache(settings.paths.lake, settings.region)
    reads, writes = [], []
    read, write = phones.PhoneMemo._read, phones.write_parquet_atomically
    monkeypatch.setattr(
        phones.PhoneMemo, "_read", staticmethod(lambda path: reads.append(path) or read(path))
    )
    monkeypatch.setattr(
        phones, "write_parquet_atomically", lambda f, path: writes.append(path) or write(f, path)
    )

    result = materialize_feeds(day, settings=settings)
    assert result.success
    assert reads == [memo] and writes == [memo]
    assert sorted(parsed) == ["+33698765432", "0612345678"]  # the credit block's number: known already
    saved = pl.read_parquet(memo)
    assert dict(saved.iter_rows()) == {"0612345678": "+33612345678", "+33698765432": "+33698765432"}
