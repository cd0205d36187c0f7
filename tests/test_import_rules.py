"""The spine's import rules (pyproject.toml, [tool.importlinter]) hold for the tree, and the
contract does break on a forbidden import: a copy of the package with one added import fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import bianmin

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(bianmin.__file__).resolve().parent


def _lint(pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)  # before site-packages: the copy is the package linted
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )


def test_the_tree_keeps_the_import_contracts():
    result = _lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_forbidden_import_breaks_the_contract(tmp_path):
    copy = tmp_path / "bianmin"
    shutil.copytree(PACKAGE, copy, ignore=lambda d, names: [
        n for n in names if not n.endswith(".py") and not (Path(d) / n).is_dir() or n == "__pycache__"])
    # core reaching up into an app, and evaluations calling followups instead of sending news
    (copy / "core" / "shortcut.py").write_text("from bianmin.followups import models  # noqa\n")
    (copy / "evaluations" / "shortcut.py").write_text("from bianmin.followups.services import handling_open  # noqa\n")

    result = _lint(tmp_path)
    assert result.returncode == 1
    out = " ".join(result.stdout.split())  # the report wraps long lines
    assert "bianmin.core is not allowed to import bianmin.followups" in out
    assert "bianmin.core.shortcut -> bianmin.followups.models" in out
    assert "bianmin.evaluations.shortcut -> bianmin.followups.services" in out
    assert "2 broken" in out


def test_every_app_has_its_place_in_the_spine():
    """A new app joins the layers by its full name; an app left out would import anything unchecked."""
    import re
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    spine = next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "spine")
    named = {name for layer in spine["layers"] for name in re.split(r"\s*[:|]\s*", layer.strip())}
    apps = {f"bianmin.{p.parent.name}" for p in PACKAGE.glob("*/apps.py")}
    assert apps and apps - named == set()
