"""The layers hold: import-linter checks the contracts in pyproject.toml ([tool.importlinter])."""
from __future__ import annotations

import re
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


# README's "The code" and docs/architecture.md name the tree's modules: every one they name exists, and every
# module of store/, widgets/ and tui/ is named in README (tui's NAME_screen.py modules by their NAME).

LAYERS = ("store", "widgets", "tui")
FILE_NAME = re.compile(r"^[\w./<>-]+\.(?:py|pyi|tcss|md)$|^[\w./-]+/$")


def named_paths(text: str, layer: str | None) -> set[str]:
    """The paths a text names in backticks: with a folder as written, a bare file name in `layer`."""
    paths = set()
    for token in re.findall(r"`([^`\s]+)`", text):
        if FILE_NAME.match(token):
            paths.add(token if "/" in token or layer is None else f"{layer}/{token}")
    return paths


def readme_code_bullets() -> list[tuple[str | None, str]]:
    """README's "The code" section as (layer or None, text) per top-level bullet."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## The code\n", 1)[1].split("\n## ", 1)[0]
    bullets = []
    for bullet in re.split(r"\n(?=- )", section):
        first = re.match(r"- `(\w+)/`", bullet)
        bullets.append((first.group(1) if first and first.group(1) in LAYERS else None, bullet))
    return bullets


def exists(path: str) -> bool:
    """A path, or a pattern (`tui/cli_<group>.py`, `tui/NAME_screen.py`) that some file matches."""
    pattern = re.sub(r"<\w+>|[A-Z]{2,}", "*", path).rstrip("/")
    return any(ROOT.glob(pattern)) if "*" in pattern else (ROOT / pattern).exists()


def test_readme_and_the_architecture_page_name_modules_that_exist():
    named = set().union(*(named_paths(text, layer) for layer, text in readme_code_bullets()))
    assert [path for path in sorted(named) if not exists(path)] == []
    page = (ROOT / "docs" / "architecture.md").read_text()
    in_page = named_paths(page, None)
    modules = {p for p in in_page if "/" not in p and p.endswith(".py")}  # named alone: in one of the layers
    assert [p for p in sorted(in_page) if "/" in p and not exists(p)] == []
    assert [p for p in sorted(modules) if not any((ROOT / layer / p).exists() for layer in LAYERS)] == []


def test_readme_names_every_module():
    bullets = readme_code_bullets()
    named = set().union(*(named_paths(text, layer) for layer, text in bullets))
    tui_text = " ".join(text for layer, text in bullets if layer == "tui")
    missing = []
    for layer in LAYERS:
        for path in sorted((ROOT / layer).iterdir()):
            if path.suffix not in (".py", ".tcss") or path.name == "__init__.py":
                continue
            name = f"{layer}/{path.name}"
            screen = re.fullmatch(r"(\w+)_screen\.py", path.name)
            if name in named or (layer == "tui" and screen and re.search(
                    rf"\b{screen.group(1).replace('_', ' ')}\b", tui_text)):
                continue
            missing.append(name)
    assert missing == [], "README's 'The code' does not name these modules"
