"""Everything about one image: model, text accuracy, date, prompt, collections, file."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from store.records import ImageRecord
from store.text import field_value

from .scrolling_modal import ReadingDialog


class InfoScreen(ReadingDialog):
    HELP_TITLE = "Image information"
    BINDINGS = [
        Binding("escape,q,i", "close", "Close", id="info.close"),
        Binding("question_mark,f1", "app.help", "Help", show=False, id="info.help"),
    ]

    def __init__(self, record: ImageRecord) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="info-dialog"):
            yield Static(f"Image #{self.record.id}", classes="title")
            with VerticalScroll(id="info-scroll"):
                with Grid(id="info-table"):
                    for label, value in self.record.info_rows():
                        yield Static(Text(label), classes="info-label")
                        yield Static(Text(field_value(value)), classes="info-value")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")
