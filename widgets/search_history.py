"""The search box: Up/Down walk the last searches, Ctrl+U clears it."""
from __future__ import annotations

from rich.cells import cell_len
from textual.binding import Binding
from textual.geometry import Size
from textual.widgets import Input

from store.history import SearchHistory


class SearchInput(Input):
    """An Input that remembers searches (kept per library and account by SearchHistory)."""

    HELP_TITLE = "Search box"

    BINDINGS = [
        Binding("up", "history(-1)", "Earlier search", show=False, id="search.history_back"),
        Binding("down", "history(1)", "Later search", show=False, id="search.history_forward"),
        Binding("ctrl+u", "clear", "Clear", show=False, id="search.clear"),
    ]

    def __init__(self, history: SearchHistory | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history = history
        self._walk: int | None = None  # index into the history while walking it
        self._typed = ""  # what was typed before walking

    def validate_value(self, value: str) -> str:
        """The box's scrolling width, set before Textual's Input sets it to the same: then a typed character asks
        for no layout of the screen. The box is one line of a fixed size, but Input asks for a layout whenever its
        text's width changes (at every character), which laid out every widget of the gallery and composed the
        whole screen again for each key typed (4-5 ms of the UI thread at 160x48, and a repaint of every card
        where the key's result repaints only those that change)."""
        if not self.styles.auto_dimensions:
            if self.placeholder and not value:
                width = cell_len(self.placeholder)
            else:
                width = (len(value) if self.password else cell_len(value)) + 1  # Input.content_width's
            self.set_reactive(Input.virtual_size, Size(width, 1))
        return value

    def remember(self) -> None:
        """Keep the current text as the latest search."""
        self._walk = None
        if self.history is not None and self.value.strip():
            self.history.add(self.value)

    def action_history(self, step: int) -> None:
        if self.history is not None and self._walk is None:
            self.history.refresh()  # with what another instance searched meanwhile
        entries = self.history.entries if self.history is not None else []
        if not entries:
            return
        if self._walk is None:
            if step > 0:
                return
            self._typed = self.value
            index = len(entries) - 1
            if entries[index] == self.value.strip() and index > 0:
                index -= 1  # already showing the latest: go one further back
        else:
            index = self._walk + step
        if index < 0:
            return
        if index >= len(entries):
            self._walk = None
            self.value = self._typed
        else:
            self._walk = index
            self.value = entries[index]
        self.cursor_position = len(self.value)

    def action_clear(self) -> None:
        self._walk = None
        self.value = ""

    def on_blur(self) -> None:
        self.remember()  # leaving the box keeps what was searched
