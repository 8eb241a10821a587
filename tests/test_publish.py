"""Publishing: the published file always equals a full copy of the build's public columns;
after a small incremental build only the changed contacts are written into a copy of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.paths import parquet_folder
from orchestration.warehouse import publish as pub

pytestmark = pytest.mark.unit

OLD, NEW = "2026-11-01 10:00:00+00", "2026-11-02 10:00:00+00"


def _build(path: Path, contacts: list[tuple[str, str, str, str]], launches: int) -> None:
    """A build database: contacts (launch, contact, status, _watermark), a small mart, an audit table."""
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts; create schema if not exists audit")
    con.execute(
        "create or replace table marts.fct_launch_contacts "
        "(launch_id varchar, contact_id varchar, reached_status varchar, _watermark timestamptz)"
    )
    con.executemany("insert into marts.fct_launch_contacts values (?, ?, ?, ?::timestamptz)", contacts)
    con.execute(
        f"create or replace table marts.mart_campaign_summary as select range as launches from range({launches})"
    )
    con.execute("create or replace table audit.orphan_receipts as select 'm-1' as provider_message_id")
    con.close()


def _tables(path: Path) -> dict[str, list]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
        return {n: con.execute(f"select * from {n} order by all").fetchall() for (n,) in sorted(names)}
    finally:
        con.close()


@pytest.fixture()
def copies(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The published files that publish() started from a copy of (spied, not replaced)."""
    copied: list[Path] = []
    real = shutil.copyfile

    def spy(src, dst):  # noqa: ANN001, ANN202
        copied.append(Path(src))
        return real(src, dst)

    monkeypatch.setattr(pub.shutil, "copyfile", spy)
    return copied


FIRST = [("L1", f"c{i}", "delivery_successful", OLD) for i in range(10)]


def test_a_small_build_replaces_only_its_contacts(tmp_path: Path, copies: list[Path]) -> None:
    build, published = tmp_path / "b.duckdb", tmp_path / "sms.duckdb"
    _build(build, FIRST, launches=1)
    pub.publish(build, published)
    assert copies == []  # nothing published yet: a full copy
    assert json.loads(pub.state_path(published).read_text())["watermark"].startswith("2026-11-01 10:00:00")

    # the next build rewrites c3 (a late receipt), adds c10 and changes the small tables
    _build(
        build,
        [
            *FIRST[:3],
            ("L1", "c3", "rejected_hard_bounce", NEW),
            *FIRST[4:],
            ("L1", "c10", "with_carrier", NEW),
        ],
        2,
    )
    counts = pub.publish(build, published).counts
    assert copies == [published]  # 2 of 11 contacts changed: written into a copy
    assert _tables(published) == _tables(_full_copy(build, tmp_path))
    contacts = _tables(published)["marts.fct_launch_contacts"]
    assert ("L1", "c3", "rejected_hard_bounce") in contacts and ("L1", "c10", "with_carrier") in contacts
    assert len(contacts) == counts["marts.fct_launch_contacts"] == 11
    assert json.loads(pub.state_path(published).read_text())["watermark"].startswith("2026-11-02 10:00:00")


def test_a_full_rebuild_or_an_unknown_file_is_copied_whole(tmp_path: Path, copies: list[Path]) -> None:
    build, published = tmp_path / "b.duckdb", tmp_path / "sms.duckdb"
    _build(build, FIRST, launches=1)
    pub.publish(build, published)
    _build(
        build, [(launch, contact, status, NEW) for launch, contact, status, _ in FIRST[:6]], 1
    )  # all rewritten
    pub.publish(build, published)
    assert copies == []
    assert _tables(published) == _tables(_full_copy(build, tmp_path))  # the 4 contacts gone are gone

    other = tmp_path / "other.duckdb"  # the state file speaks of another build database
    _build(other, FIRST[:2], 3)
    pub.publish(other, published)
    assert copies == [] and _tables(published) == _tables(_full_copy(other, tmp_path))

    pub.state_path(published).unlink()  # no record of what the published file holds
    pub.publish(other, published)
    assert copies == [] and _tables(published) == _tables(_full_copy(other, tmp_path))


def test_bookkeeping_columns_are_never_published(tmp_path: Path) -> None:
    build, published = tmp_path / "b.duckdb", tmp_path / "sms.duckdb"
    _build(build, FIRST, launches=1)
    pub.publish(build, published)
    _build(build, [*FIRST, ("L2", "c1", "with_carrier", NEW)], 1)
    pub.publish(build, published)
    con = duckdb.connect(str(published), read_only=True)
    columns = [c[0] for c in con.execute("describe marts.fct_launch_contacts").fetchall()]
    con.close()
    assert columns == ["launch_id", "contact_id", "reached_status"]


def _contacts_parquet(published: Path) -> tuple[int, list[tuple]]:
    """The published contacts' Parquet file: its inode (the same file, or written again) and rows."""
    path = parquet_folder(published) / "marts" / "fct_launch_contacts.parquet"
    rows = duckdb.sql(f"select * from '{path}' order by all").fetchall()
    return path.stat().st_ino, rows


def test_the_contacts_parquet_is_written_again_only_when_a_contact_changed(tmp_path: Path) -> None:
    build, published = tmp_path / "b.duckdb", tmp_path / "sms.duckdb"
    _build(build, FIRST, launches=1)
    pub.publish(build, published)
    first, rows = _contacts_parquet(published)
    assert len(rows) == 10

    _build(build, FIRST, launches=2)  # a small table changed, no contact did
    pub.publish(build, published)
    assert _contacts_parquet(published) == (first, rows)  # the same file, linked into the new build's folder
    assert _tables(published) == _tables(_full_copy(build, tmp_path))

    _build(build, [*FIRST, ("L1", "c10", "with_carrier", NEW)], 2)
    pub.publish(build, published)
    changed, rows = _contacts_parquet(published)
    assert changed != first and ("L1", "c10", "with_carrier") in rows and len(rows) == 11

    # a publish stopped after its state was written and before the link moved: not trusted
    state = json.loads(pub.state_path(published).read_text())
    pub.state_path(published).write_text(json.dumps(state | {"parquet": "another-build"}))
    pub.publish(build, published)
    assert _contacts_parquet(published)[0] != changed and _contacts_parquet(published)[1] == rows


@pytest.fixture()
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Each time publishing wrote tables into a file (the `since` it wrote from)."""
    written: list[str | None] = []
    real = pub._copy_schemas

    def spy(con, since):  # noqa: ANN001, ANN202
        written.append(since)
        return real(con, since)

    monkeypatch.setattr(pub, "_copy_schemas", spy)
    return written


def test_a_staged_file_is_published_by_a_rename(tmp_path: Path, writes: list[str | None]) -> None:
    build, published = tmp_path / "b.duckdb", tmp_path / "sms.duckdb"
    _build(build, FIRST, launches=1)
    staged = pub.stage(build, published)
    assert staged.path.exists() and not published.exists()  # staged is not published
    assert pub.publish(build, published) == pub.Published(staged.counts, was_staged=True)
    assert len(writes) == 1  # written once, while staging
    assert not pub.staged_path(published).exists()
    assert _tables(published) == _tables(_full_copy(build, tmp_path))
    assert json.loads(pub.state_path(published).read_text())["watermark"].startswith("2026-11-01 10:00:00")


def test_a_staged_file_from_another_build_or_published_file_is_not_published(
    tmp_path: Path, writes: list[str | None]
) -> None:
    build, published = tmp_path / "b.duckdb", tmp_path / "sms.duckdb"
    _build(build, FIRST, launches=1)
    pub.stage(build, published)
    _build(build, FIRST[:4], 2)  # the build database changed after the file was staged
    pub.publish(build, published)
    assert len(writes) == 2  # the stale file was not taken
    assert _tables(published) == _tables(_full_copy(build, tmp_path))

    _build(build, [*FIRST[:4], ("L1", "c9", "with_carrier", NEW)], 2)
    pub.stage(build, published)  # a copy of the published file with c9 put in
    other = tmp_path / "other.duckdb"
    _build(other, FIRST[:2], 3)
    pub.publish(other, published)  # the published file changed since: the staged copy is stale
    pub.publish(build, published)
    assert _tables(published) == _tables(_full_copy(build, tmp_path))
    assert not pub.staged_path(published).exists()


def test_discard_leaves_nothing_behind(tmp_path: Path) -> None:
    build, published = tmp_path / "b.duckdb", tmp_path / "sms.duckdb"
    _build(build, FIRST, launches=1)
    pub.stage(build, published)
    pub.discard(published)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.duckdb"]


def _full_copy(build: Path, tmp_path: Path) -> Path:
    """What publishing from nothing gives (a fresh file, no state beside it)."""
    target = tmp_path / "fresh" / "sms.duckdb"
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir()
    pub.publish(build, target)
    return target
