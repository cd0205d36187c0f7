"""The one spreadsheet writer (core.xlsx): what a stranger types neither breaks the file nor runs
in the spreadsheet, in xlsx and CSV alike; and no other module writes a spreadsheet."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

from openpyxl import load_workbook

from bianmin.core import xlsx

HOSTILE = ["bell\x07user", "nul\x00here", "=1+2", '=HYPERLINK("http://evil","点我")', "+86 138", "-2+3", "@SUM(A1)",
           "\tTAB", "普通文本"]


def test_xlsx_holds_control_characters_and_formulas_as_text():
    data = xlsx.book("审计\x07日志", ["名\x01称", "值"], [[v, 1] for v in HOSTILE])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.title == "审计日志" and ws["A1"].value == "名称"
    values = [ws.cell(row=i, column=1) for i in range(2, len(HOSTILE) + 2)]
    assert all(c.data_type == "s" for c in values)  # never "f": nothing runs when the file is opened
    assert [c.value for c in values][:4] == ["belluser", "nulhere", "=1+2", '=HYPERLINK("http://evil","点我")']


def test_csv_fields_that_a_spreadsheet_would_run_start_with_an_apostrophe():
    text = "".join(xlsx.csv_lines(["名称", "数"], [[v, -5] for v in HOSTILE]))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["名称", "数"]
    assert [r[0] for r in rows[1:]] == ["belluser", "nulhere", "'=1+2", "'=HYPERLINK(\"http://evil\",\"点我\")",
                                        "'+86 138", "'-2+3", "'@SUM(A1)", "'\tTAB", "普通文本"]
    assert {r[1] for r in rows[1:]} == {"-5"}  # a number is no formula


def test_several_sheets_and_widths():
    data = xlsx.books(xlsx.Sheet("汇总", ["a"], [[1]], widths=[30]), xlsx.Sheet("明细", ["b"], []))
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["汇总", "明细"]
    assert wb["汇总"].column_dimensions["A"].width == 30
    assert list(wb["明细"].values) == [("b",)]


SRC = Path(xlsx.__file__).resolve().parents[1]
# Not the platform writing a file for someone: the scripts that rebuild the demo data files.
NOT_EXPORTS = {"regions/data/make_demo_sites.py", "figures/data/make_demo_geo.py"}


def _writers(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("openpyxl"):
            found += [f"from {node.module} import {a.name}" for a in node.names if a.name == "Workbook"]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "csv" \
                and node.attr in ("writer", "DictWriter"):
            found.append(f"csv.{node.attr}")
    return found


def test_no_module_writes_a_spreadsheet_but_the_one_writer():
    offenders = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel == "core/xlsx.py" or rel in NOT_EXPORTS or "/migrations/" in rel:
            continue
        found = _writers(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offenders[rel] = found
    assert offenders == {}, f"请通过 bianmin.core.xlsx 写 xlsx/CSV：{offenders}"
