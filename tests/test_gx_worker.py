"""GX suites in the run's worker process give the same results as in the calling process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from orchestration import gx_worker, quality
from orchestration.gx_worker import validating_in_a_worker
from orchestration.quality import expect, run_suite

# two launches; L2's sums do not add up: one failing row, named by its launch_id
FRAME = pl.DataFrame({"launch_id": ["L1", "L2"], "sent": [3, 5], "delivered": [3, 4]})
SUITE = [
    expect("ExpectColumnValuesToBeUnique", column="launch_id"),
    expect("ExpectColumnPairValuesToBeEqual", column_A="sent", column_B="delivered"),
]


def test_a_suite_in_the_worker_fails_as_it_does_here(tmp_path: Path) -> None:
    here = run_suite("sums", FRAME, SUITE, None, ["launch_id"])
    with validating_in_a_worker(tmp_path / "docs"):
        assert quality._worker is not None
        there = run_suite("sums", FRAME, SUITE, tmp_path / "docs", ["launch_id"])
    assert quality._worker is None
    assert [(f.expectation, f.unexpected, f.sample) for f in there.failures] == [
        (f.expectation, f.unexpected, f.sample) for f in here.failures
    ]
    assert [row["launch_id"] for row in there.failures[0].sample] == ["L2"]
    assert (there.rows, there.evaluated) == (2, 2)
    assert (tmp_path / "docs" / "index.html").exists()  # rendered by the worker when the block ends


def test_data_docs_render_in_the_worker_while_the_caller_goes_on(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    with validating_in_a_worker(docs):
        run_suite("sums", FRAME, SUITE, docs, ["launch_id"])
        quality.render_data_docs_soon()  # returns at once; the worker renders
        for _ in range(600):
            if (docs / "index.html").exists():
                break
            time.sleep(0.05)
        assert (docs / "index.html").exists()  # before the block ends
        later = run_suite("later", FRAME.head(1), SUITE, docs, ["launch_id"])  # waits for the rendering
        assert later.success
    index = (docs / "index.html").read_text()
    assert "sums" in index and "later" in index  # the end of the block rendered the rest


def test_an_error_in_the_worker_is_raised_to_the_caller(tmp_path: Path) -> None:
    with validating_in_a_worker(None), pytest.raises(AttributeError, match="ExpectNoSuchThing"):
        run_suite("broken", FRAME, [expect("ExpectNoSuchThing", column="launch_id")])


def test_suites_run_here_when_the_worker_dies(tmp_path: Path) -> None:
    with validating_in_a_worker(tmp_path / "docs"):
        worker = quality._worker
        worker.process.kill()
        worker.process.wait()
        result = run_suite("sums", FRAME, SUITE, tmp_path / "docs", ["launch_id"])
        assert quality._worker is None  # given up: the rest of the run validates here
        assert not (tmp_path / "docs" / "index.html").exists()  # rendered once, at the end
    assert [f.expectation for f in result.failures] == ["expect_column_pair_values_to_be_equal"]
    assert (tmp_path / "docs" / "index.html").exists()


def test_a_worker_that_does_not_start_leaves_the_suites_here(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(gx_worker, "WORKER_COMMAND", [sys.executable, "-c", "raise SystemExit(3)"])
    with validating_in_a_worker(tmp_path / "docs"):
        assert quality._worker is None
        result = run_suite("sums", FRAME, SUITE, tmp_path / "docs", ["launch_id"])
        assert not (tmp_path / "docs" / "index.html").exists()  # rendered once, at the end
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
    pandas = quality._for_pandas(frame)
    assert str(pandas["status"].dtype) == "category" and str(pandas["phone"].dtype) == "category"
    assert str(pandas["contact_id"].dtype) != "category"  # every value differs: left as text
    as_categories = quality.run_suite_here("cats", frame, suite, None, ["contact_id"])
    monkeypatch.setattr(quality, "_for_pandas", lambda f: f.to_pandas())
    as_text = quality.run_suite_here("cats", frame, suite, None, ["contact_id"])
    found = [(f.expectation, f.unexpected, f.sample) for f in as_categories.failures]
    assert found == [(f.expectation, f.unexpected, f.sample) for f in as_text.failures]
    assert [(kind, rows) for kind, rows, _ in found] == [
        ("expect_column_values_to_be_in_set", 1),  # "lost"
        ("expect_column_values_to_not_be_null", 1),
        ("expect_column_values_to_match_regex", 1),  # the national form
    ]
    assert found[0][2] == [{"status": "lost", "contact_id": "c19996"}]


def test_gx_runs_every_kind_of_suite_here_without_scipy_stats_or_altair(tmp_path: Path) -> None:
    """What the import of GX skips (2.5 s of 5.5 s) is imported only if an expectation ever reads it."""
    script = f"""
import sys
from pathlib import Path
import polars as pl
from orchestration.quality import expect, run_suite_here
frame = pl.DataFrame({{"a": ["x", "y", None], "b": [1, 2, 3], "c": [1, 2, 4], "p": ["+33612345678", "0612", "+1"]}})
suite = [
    expect("ExpectTableColumnsToMatchSet", column_set=["a", "b", "c", "p"], exact_match=True),
    expect("ExpectColumnValuesToNotBeNull", column="a"),
    expect("ExpectColumnValuesToBeInSet", column="a", value_set=["x"]),
    expect("ExpectColumnValuesToBeBetween", column="b", min_value=0, max_value=2),
    expect("ExpectColumnValuesToMatchRegex", column="p", regex=r"^\\+[1-9][0-9]{{6,14}}$"),
    expect("ExpectColumnPairValuesToBeEqual", column_A="b", column_B="c"),
    expect("ExpectColumnValuesToBeUnique", column="b"),
    expect("ExpectCompoundColumnsToBeUnique", column_list=["a", "b"]),
    expect("ExpectTableRowCountToEqual", value=0),
]
result = run_suite_here("kinds", frame, suite, Path({str(tmp_path / "docs")!r}), ["b"])
print(sorted(f.expectation for f in result.failures))
print("scipy.stats._stats_py" in sys.modules, "altair.vegalite" in sys.modules)
import scipy.stats
print(round(float(scipy.stats.entropy([0.5, 0.5], [0.9, 0.1])), 3))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    failed, loaded, entropy = done.stdout.splitlines()[-3:]
    assert failed == str(sorted([
        "expect_column_pair_values_to_be_equal", "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set", "expect_column_values_to_match_regex",
        "expect_column_values_to_not_be_null", "expect_table_row_count_to_equal",
    ]))  # fmt: skip
    assert loaded == "False False"
    assert entropy == "0.511"  # the stand-in gives way to the real module when it is used
    assert (tmp_path / "docs" / "index.html").exists()
