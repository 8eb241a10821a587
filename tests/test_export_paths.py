"""Exports: ids made safe, nothing ever written outside the export root, no cell a spreadsheet runs,
and which launches a request exports."""

from pathlib import Path

import pytest

from orchestration.warehouse.contact_lists import (
    LISTS,
    ContactList,
    ExportError,
    chosen_launches,
    export_path,
    safe_cell,
    safe_component,
)

pytestmark = pytest.mark.unit


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


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("+33612345678", "+33612345678"),  # E.164: a + and digits cannot be a formula
        ("c-01", "c-01"),
        ("", ""),
        (None, None),
    ],
)
def test_no_cell_is_a_formula_in_a_spreadsheet(cell: str | None, written: str | None) -> None:
    """OWASP CSV injection: a cell that begins with = + - @ TAB or CR gets a leading quote."""
    assert safe_cell(cell) == written


def test_list_names_are_an_enum_of_the_contracts_names() -> None:
    assert [member.name for member in ContactList] == list(LISTS)
    assert ContactList["insufficient_credit"].value == "insufficient_credit"
    assert "rejected_hard_bounce" in LISTS and len(LISTS) == 7 + 4


LAUNCHES = {"L1": ("C1", "d1"), "L2": ("C2", "d2"), "L3": ("C2", "d3")}


def test_which_launches_a_request_exports() -> None:
    assert chosen_launches(LAUNCHES, {}, "L2", None) == ["L2"]
    assert chosen_launches(LAUNCHES, {}, None, "C2") == ["L2", "L3"]
    # neither named: those whose contacts changed since they were last exported
    assert chosen_launches(LAUNCHES, {"L1": "d1", "L2": "old"}, None, None) == ["L2", "L3"]
    with pytest.raises(ExportError, match="belongs to campaign 'C2', not 'C1'"):
        chosen_launches(LAUNCHES, {}, "L2", "C1")
    with pytest.raises(ExportError, match="known launches: L1, L2, L3"):
        chosen_launches(LAUNCHES, {}, "L4", None)
