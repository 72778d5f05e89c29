"""Workers are described by their method, never by their arguments (widgets/workers.py, issue 11)."""
from __future__ import annotations

import ast
from pathlib import Path

from textual.app import App
from textual.widget import Widget

from widgets.workers import work

ROOT = Path(__file__).resolve().parent.parent


class Reader(Widget):
    @work(thread=True, exit_on_error=False)
    def read(self, ids: set[int]) -> int:
        return len(ids)


async def test_a_worker_given_a_million_ids_is_not_described_by_them():
    """Textual's `@work` wrote the repr of every argument into the worker's description, on the calling thread:
    a million-id set cost the UI thread 347 ms. This `work` names the method alone. Fails without (with Textual's
    `work`, the description holds the million ids)."""
    app = App()
    async with app.run_test() as pilot:
        reader = Reader()
        await app.mount(reader)
        worker = reader.read(set(range(1_000_000)))
        await worker.wait()
        await pilot.pause()
        assert worker.result == 1_000_000
        assert worker.description == "Reader.read()"


def test_every_worker_of_the_app_goes_through_widgets_workers():
    """No module of tui/ or widgets/ takes Textual's `work` (each would describe its workers by their arguments:
    a selection, a record and its prompt, a list of thumbnail keys, on the UI thread). Fails when one does."""
    found = []
    for path in sorted((ROOT / "tui").glob("*.py")) + sorted((ROOT / "widgets").glob("*.py")):
        if path.name == "workers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textual") \
                    and any(alias.name == "work" for alias in node.names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.Attribute) and node.attr == "work" and isinstance(node.value, ast.Name) \
                    and node.value.id == "textual":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, f"Textual's work taken directly (use widgets.workers.work): {found}"
