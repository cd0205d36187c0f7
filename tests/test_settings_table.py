"""Every setting in one documented table (bianmin/conf.py, docs/SETTINGS.md): the code reads no
BIANMIN_* name and no environment variable the table does not list, the table lists nothing the
code does not read, the document is the table, and the apps' settings come from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from bianmin import conf

SRC = Path(conf.__file__).resolve().parent
DOC = SRC.parents[1] / "docs" / "SETTINGS.md"
# A BIANMIN_* name anywhere in the code (a read, a default, a docstring that names one), and the
# environment variables read directly.
NAME = re.compile(r"\bBIANMIN_[A-Z0-9_]*[A-Z0-9]\b")
ENV_READ = re.compile(r"""(?:os\.environ|environ)(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']""")


def _code() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in SRC.rglob("*.py")
            if "migrations" not in p.parts and p != Path(conf.__file__).resolve()}


def test_every_setting_the_code_reads_is_in_the_table():
    unlisted: dict[str, list[str]] = {}
    for path, text in _code().items():
        for name in set(NAME.findall(text)) | set(ENV_READ.findall(text)):
            if name not in conf.BY_NAME:
                unlisted.setdefault(name, []).append(str(path.relative_to(SRC)))
    assert unlisted == {}, "add these to the table in src/bianmin/conf.py"


def test_every_row_is_read_somewhere():
    text = "\n".join(_code().values())
    assert [s.name for s in conf.TABLE if not re.search(rf"\b{s.name}\b", text)] == []


def test_the_document_is_the_table():
    assert DOC.read_text(encoding="utf-8") == conf.render(), (
        "docs/SETTINGS.md is out of date: uv run python -m bianmin.conf > docs/SETTINGS.md")


def test_the_apps_settings_have_the_tables_defaults():
    for s in conf.TABLE:
        if s.kind == conf.SETTING and s.parse is not None:
            assert hasattr(settings, s.name), s.name


@pytest.mark.parametrize(("name", "raw", "value"), [
    ("BIANMIN_EVAL_RATE_LINK", "5,60", (5, 60)),
    ("BIANMIN_EVAL_RATE_LINK", "5/60", (5, 60)),
    ("BIANMIN_LOCKOUT_ATTEMPTS", " 8 ", 8),
    ("BIANMIN_SMS_HTTP_TIMEOUT", "2.5", 2.5),
    ("BIANMIN_MANDATORY_DEPARTMENTS", "民政、残联, 司法", ("民政", "残联", "司法")),
    ("BIANMIN_PUBLIC_BASE_URL", "https://bianmin.example.gov.cn", "https://bianmin.example.gov.cn"),
    ("BIANMIN_ASSESSMENT_WEIGHTS", "inspection=50, satisfaction=20,timeliness=15、appeal=15",
     {"inspection": 50, "satisfaction": 20, "timeliness": 15, "appeal": 15}),
])
def test_the_environment_replaces_a_default(name, raw, value):
    assert conf.django_settings({name: raw})[name] == value
    assert conf.django_settings({})[name] == conf.BY_NAME[name].default
    assert conf.django_settings({name: "  "})[name] == conf.BY_NAME[name].default  # blank: unset


def test_the_check_catches_an_unlisted_setting():
    """The scan finds a read the table lacks (it is what fails when an app adds one unlisted)."""
    code = 'limit = settings.BIANMIN_SOMETHING_NEW\nother = os.environ.get("SOME_VARIABLE", "")\n'
    found = set(NAME.findall(code)) | set(ENV_READ.findall(code))
    assert found == {"BIANMIN_SOMETHING_NEW", "SOME_VARIABLE"}
    assert not found & set(conf.BY_NAME)
