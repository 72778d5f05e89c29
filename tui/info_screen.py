"""Everything about one image: model, text accuracy, date, prompt, collections, file."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from store.records import ImageRecord
from store.text import field_value, shown
from widgets.rich_once import RichOnce

from .scrolling_modal import ReadingDialog

LABEL_WIDTH = 18  # the labels' column; one cell between it and the values


def info_table(rows: list[tuple[str, str]]) -> Table:
    """The rows as one two-column grid: bold labels, values wrapping in the rest of the width.

    One widget draws them all: a widget per label and per value (34 of them) made the dialog's
    first paint stall the UI thread past 50 ms at a million images (issue 11)."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(width=LABEL_WIDTH, style="bold")
    table.add_column(ratio=1, overflow="fold")
    for label, value in rows:
        table.add_row(Text(label), Text(value))
    return table


class InfoScreen(ReadingDialog):
    HELP_TITLE = "Image information"
    BINDINGS = [
        Binding("escape,q,i", "close", "Close", id="info.close"),
        Binding("question_mark,f1", "app.help", "Help", show=False, id="info.help"),
    ]

    def __init__(self, record: ImageRecord) -> None:
        super().__init__()
        self.record = record
        self.rows: list[tuple[str, str]] = [(label, field_value(shown(value))) for label, value in record.info_rows()]
        """The rows as shown: (label, value), the value with its continuation marks (a megabyte prompt cut)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="info-dialog"):
            yield Static(f"Image #{self.record.id}", classes="title")
            with VerticalScroll(id="info-scroll"):
                yield RichOnce(info_table(self.rows), id="info-table")  # drawn once, not to measure then to draw
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")
