"""Export paths: ids made safe, nothing ever written outside the export root."""

from pathlib import Path

import pytest

from orchestration.warehouse.contact_lists import ExportError, export_path, safe_component


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("cmp-1", "cmp-1"),
        ("../../etc", "____etc"),
        ("a/b", "a_b"),
        ("..", "_"),
        ("", "_"),
        (".hidden", "hidden"),
        ("Black Friday / -30%", "Black_Friday___-30_"),
        ("é🛒", "__"),
    ],
)
def test_safe_component(raw: str, safe: str) -> None:
    assert safe_component(raw) == safe
    assert "/" not in safe and ".." not in safe


@pytest.mark.parametrize("hostile", ["../../..", "/etc/passwd", "a/../../../b", "..\\..", "~root"])
def test_export_path_never_leaves_the_root(tmp_path: Path, hostile: str) -> None:
    path = export_path(tmp_path, hostile, hostile, "opted_out")
    assert tmp_path.resolve() in path.parents
    assert path.name == "opted_out.csv"
    assert path.parent.parent.parent == tmp_path.resolve()


def test_unknown_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown list"):
        export_path(tmp_path, "c", "l", "../../evil")
