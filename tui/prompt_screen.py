"""The full prompt, scrollable, with a Copy button."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from store.records import ImageRecord
from store.text import printable

from widgets.highlight import highlight

from .clipboard import copy_text
from .scrolling_modal import ScrollingModal



class PromptScreen(ScrollingModal[None]):
    HELP_TITLE = "Prompt"
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="prompt.close"),
        Binding("question_mark,f1", "app.help", "Help", show=False, id="prompt.help"),
        Binding("c,y", "copy", "Copy", id="prompt.copy"),
    ]

    def __init__(self, record: ImageRecord, highlight_words: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.record = record
        self.highlight_words = highlight_words  # the searched words, shown where they occur

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="prompt-dialog"):
            yield Static(f"Prompt of image #{self.record.id}", classes="title")
            with VerticalScroll(id="prompt-scroll"):
                yield Static(highlight(Text(printable(self.record.prompt, keep_newlines=True) or "(no prompt)"),
                                       self.highlight_words), id="prompt-text")
                if self.record.negative_prompt:
                    yield Static("Negative prompt", classes="subtitle")
                    yield Static(Text(printable(self.record.negative_prompt, keep_newlines=True)),
                                 id="negative-text")
            with Horizontal(classes="buttons"):
                yield Button("Copy", id="copy", variant="primary")
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#copy", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "copy":
            self.action_copy()
        else:
            self.dismiss(None)

    def action_copy(self) -> None:
        # The prompt as stored, less its control characters (newlines and tabs stay).
        self.notify(copy_text(self.app, self.record.prompt), title="Copied", markup=False)

