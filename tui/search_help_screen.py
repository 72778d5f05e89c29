"""The search syntax, from the search box (F1) or the command palette."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from store.query import SEARCH_HELP

from .scrolling_modal import ScrollingModal

KEYS = """
in the search box: Up/Down the last searches, Ctrl+U clears, Enter goes to the results;
in the grid: o changes the order, / searches again.
A part that cannot be read is named under the search box; the grid keeps the last good result."""


class SearchHelpScreen(ScrollingModal[None]):
    BINDINGS = [Binding("escape,q,f1", "close", "Close", id="search_help.close")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="search-help-dialog"):
            yield Static("Searching", classes="title")
            with VerticalScroll(id="search-help-scroll"):
                yield Static(Text(SEARCH_HELP.split("\n", 1)[1] + KEYS), id="search-help-text")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#close", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
