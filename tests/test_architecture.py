"""The layers hold: import-linter checks the contracts in pyproject.toml ([tool.importlinter])."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                              "sys.exit(lint_imports_command())"]


def lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(LINT, cwd=folder, capture_output=True, text=True, env={"PYTHONPATH": str(folder),
                                                                                 "PATH": "/usr/bin:/bin"})


def test_the_layer_contracts_are_kept():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 kept, 0 broken" in result.stdout


def test_a_store_module_importing_textual_breaks_the_contract(tmp_path):
    """The check can fail: the same tree with one forbidden import is refused, naming the import."""
    for part in ("store", "widgets", "tui"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    doctor = tmp_path / "store" / "doctor.py"
    doctor.write_text(doctor.read_text() + "\nfrom textual.widgets import Static  # noqa\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "store.doctor -> textual" in result.stdout


# ruff and mypy, configured in pyproject.toml ([tool.ruff], [tool.mypy]), run here so the default test run
# (.ci/run: exactly the README's test command) checks them.

def run_tool(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=cwd, capture_output=True, text=True)


def test_ruff_finds_nothing():
    result = run_tool("ruff", "check", "--no-cache", "--output-format", "concise")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_mypy_finds_nothing():
    result = run_tool("mypy")  # the files and options: [tool.mypy]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_ruff_and_mypy_can_fail(tmp_path):
    """The same configuration refuses an unused import (ruff) and a wrong type (mypy)."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\n\ndef half(n: int) -> int:\n    return n / 2\n")
    ruff = run_tool("ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(bad))
    assert ruff.returncode != 0 and "F401" in ruff.stdout
    mypy = run_tool("mypy", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"),
                    str(bad), cwd=tmp_path)
    assert mypy.returncode != 0 and "Incompatible return value type" in mypy.stdout
