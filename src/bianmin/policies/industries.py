"""The industry classification policies and enterprises are described with: GB/T 4754-2017
国民经济行业分类, its 20 门类 (sections, A–T) and 97 大类 (divisions, 01–97).

Kept as data (``data/gbt4754_2017.csv``), read once per process: a later edition of the standard
is a new file, not new code. A policy lists sections or divisions (a section covers all of its
divisions; none listed means every industry); an enterprise has one division."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "gbt4754_2017.csv"
EDITION = "GB/T 4754-2017"


@dataclass(frozen=True)
class Industry:
    code: str  # "C" (section) or "13" (division)
    name: str
    section: str  # the section of a division; the section itself for a section

    @property
    def is_section(self) -> bool:
        return self.code.isalpha()

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@functools.cache
def _table() -> dict[str, Industry]:
    rows: dict[str, Industry] = {}
    with open(DATA_FILE, encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip() and not line.startswith("#")]
    for row in csv.DictReader(lines):
        code = row["code"].strip()
        rows[code] = Industry(code=code, name=row["name"].strip(), section=(row["section"] or "").strip() or code)
    return rows


def all_industries() -> list[Industry]:
    return list(_table().values())


def sections() -> list[Industry]:
    return [i for i in _table().values() if i.is_section]


def divisions(section: str | None = None) -> list[Industry]:
    return [i for i in _table().values() if not i.is_section and (section is None or i.section == section)]


def get(code: str) -> Industry | None:
    return _table().get(normalize(code))


def normalize(code: str) -> str:
    """"c" → "C", "5" → "05", " 13 " → "13"."""
    code = (code or "").strip().upper()
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    return code


def label(code: str) -> str:
    found = get(code)
    return found.label if found else code


def covers(listed: str, division: str) -> bool:
    """Whether a policy's listed code (a section or a division) covers an enterprise's division."""
    found = get(division)
    if found is None:
        return False
    return listed == found.code or listed == found.section


def choices() -> list[tuple[str, str]]:
    """(code, label) for forms: each section followed by its divisions, indented."""
    out = []
    for s in sections():
        out.append((s.code, s.label))
        out.extend((d.code, f"　{d.label}") for d in divisions(s.code))
    return out
