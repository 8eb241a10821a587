"""GX suites in the run's worker process give the same results as in the calling process."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import polars as pl
import pytest

from orchestration.quality import validation, worker
from orchestration.quality.validation import Suites, expect, run_suite
from orchestration.quality.worker import validating

# two launches; L2's sums do not add up: one failing row, named by its launch_id
FRAME = pl.DataFrame({"launch_id": ["L1", "L2"], "sent": [3, 5], "delivered": [3, 4]})
SUITE = [
    expect("ExpectColumnValuesToBeUnique", column="launch_id"),
    expect("ExpectColumnPairValuesToBeEqual", column_A="sent", column_B="delivered"),
]


def test_a_suite_in_the_worker_fails_as_it_does_here(tmp_path: Path) -> None:
    here = run_suite("sums", FRAME, SUITE, None, ["launch_id"])
    with validating(tmp_path / "docs") as runner:
        assert runner.in_worker
        there = runner.run("sums", FRAME, SUITE, ["launch_id"])
        assert not (tmp_path / "docs" / "index.html").exists()  # rendered once, when the block ends
    assert [(f.expectation, f.unexpected, f.sample) for f in there.failures] == [
        (f.expectation, f.unexpected, f.sample) for f in here.failures
    ]
    assert [row["launch_id"] for row in there.failures[0].sample] == ["L2"]
    assert (there.rows, there.evaluated) == (2, 2)
    assert (tmp_path / "docs" / "index.html").exists()


def test_data_docs_render_in_the_worker_while_the_caller_goes_on(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    with validating(docs) as runner:
        runner.run("sums", FRAME, SUITE, ["launch_id"])
        runner.render_soon()  # returns at once; the worker renders
        for _ in range(600):
            if (docs / "index.html").exists():
                break
            time.sleep(0.05)
        assert (docs / "index.html").exists()  # before the block ends
        later = runner.run("later", FRAME.head(1), SUITE, ["launch_id"])  # waits for the rendering
        assert later.success
    index = (docs / "index.html").read_text()
    assert "sums" in index and "later" in index  # the end of the block rendered the rest


def test_an_error_in_the_worker_is_raised_to_the_caller() -> None:
    with validating(None) as runner, pytest.raises(AttributeError, match="ExpectNoSuchThing"):
        runner.run("broken", FRAME, [expect("ExpectNoSuchThing", column="launch_id")])


def test_suites_run_here_when_the_worker_dies(tmp_path: Path) -> None:
    with validating(tmp_path / "docs") as runner:
        runner.process.kill()
        runner.process.wait()
        result = runner.run("sums", FRAME, SUITE, ["launch_id"])
        assert not runner.in_worker  # given up: the rest of the run validates here
    assert [f.expectation for f in result.failures] == ["expect_column_pair_values_to_be_equal"]
    assert (tmp_path / "docs" / "index.html").exists()  # what ran here is rendered too


def test_a_worker_that_does_not_start_leaves_the_suites_here(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(worker, "WORKER_COMMAND", [sys.executable, "-c", "raise SystemExit(3)"])
    with validating(tmp_path / "docs") as runner:
        assert not runner.in_worker
        result = runner.run("sums", FRAME, SUITE, ["launch_id"])
        assert not (tmp_path / "docs" / "index.html").exists()  # rendered once, at the end
    assert [row["launch_id"] for row in result.failures[0].sample] == ["L2"]
    assert (tmp_path / "docs" / "index.html").exists()


def test_the_run_goes_on_while_its_worker_starts_and_a_stalled_one_is_given_up(
    tmp_path: Path, monkeypatch
) -> None:
    """The block is entered before the worker connects (the run imports meanwhile); a worker that
    never connects is waited for only up to the deadline, at the first suite, then stopped."""
    monkeypatch.setattr(worker, "WORKER_COMMAND", [sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(worker, "_CONNECT_WAIT_S", 1.0)
    with validating(tmp_path / "docs") as runner:
        assert runner.process.poll() is None  # still starting, never connected: nobody waited for it
        result = runner.run("sums", FRAME, SUITE, ["launch_id"])
        assert not runner.in_worker
    assert runner.process.poll() is not None  # stopped when the block ended
    assert [row["launch_id"] for row in result.failures[0].sample] == ["L2"]
    assert (tmp_path / "docs" / "index.html").exists()


def test_repetitive_text_validated_as_categories_fails_as_plain_text(monkeypatch) -> None:
    """Big frames go to GX with few-valued text columns as categories (cheaper to filter): same answers."""
    n = 20_000
    frame = pl.DataFrame(
        {
            "contact_id": [f"c{i:05d}" for i in range(n)],
            "status": ["delivered", "rejected"] * (n // 2 - 2) + ["lost", None, "delivered", "rejected"],
            "phone": ["+33612345678"] * (n - 1) + ["0612345678"],
        }
    )
    suite = [
        expect("ExpectColumnValuesToBeInSet", column="status", value_set=["delivered", "rejected"]),
        expect("ExpectColumnValuesToNotBeNull", column="status"),
        expect("ExpectColumnValuesToMatchRegex", column="phone", regex=r"^\+[1-9]\d{6,14}$"),
        expect("ExpectColumnValuesToBeUnique", column="contact_id"),
    ]
    pandas = validation._for_pandas(frame)
    assert str(pandas["status"].dtype) == "category" and str(pandas["phone"].dtype) == "category"
    assert str(pandas["contact_id"].dtype) != "category"  # every value differs: left as text
    as_categories = Suites().run("cats", frame, suite, ["contact_id"])
    monkeypatch.setattr(validation, "_for_pandas", lambda f: f.to_pandas())
    as_text = Suites().run("cats", frame, suite, ["contact_id"])
    found = [(f.expectation, f.unexpected, f.sample) for f in as_categories.failures]
    assert found == [(f.expectation, f.unexpected, f.sample) for f in as_text.failures]
    assert [(kind, rows) for kind, rows, _ in found] == [
        ("expect_column_values_to_be_in_set", 1),  # "lost"
        ("expect_column_values_to_not_be_null", 1),
        ("expect_column_values_to_match_regex", 1),  # the national form
    ]
    assert found[0][2] == [{"status": "lost", "contact_id": "c19996"}]


def test_every_kind_of_expectation_the_suites_use_runs(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"a": ["x", "y", None], "b": [1, 2, 3], "c": [1, 2, 4], "p": ["+33612345678", "0612", "+1"]}
    )
    suite = [
        expect("ExpectTableColumnsToMatchSet", column_set=["a", "b", "c", "p"], exact_match=True),
        expect("ExpectColumnValuesToNotBeNull", column="a"),
        expect("ExpectColumnValuesToBeInSet", column="a", value_set=["x"]),
        expect("ExpectColumnValuesToBeBetween", column="b", min_value=0, max_value=2),
        expect("ExpectColumnValuesToMatchRegex", column="p", regex=r"^\+[1-9][0-9]{6,14}$"),
        expect("ExpectColumnPairValuesToBeEqual", column_A="b", column_B="c"),
        expect("ExpectColumnValuesToBeUnique", column="b"),
        expect("ExpectTableRowCountToEqual", value=0),
    ]
    result = run_suite("kinds", frame, suite, tmp_path / "docs", ["b"])
    assert sorted(f.expectation for f in result.failures) == [
        "expect_column_pair_values_to_be_equal", "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set", "expect_column_values_to_match_regex",
        "expect_column_values_to_not_be_null", "expect_table_row_count_to_equal",
    ]  # fmt: skip
    assert (tmp_path / "docs" / "index.html").exists()
