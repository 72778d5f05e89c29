"""The full prompt, scrollable, with Copy, Copy negative (when there is one) and Copy settings buttons."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from store.export import infotext
from store.records import ImageRecord
from store.text import printable, shown

from widgets.highlight import highlight

from .clipboard import copy_text
from .scrolling_modal import ScrollingModal



class PromptScreen(ScrollingModal[None]):
    HELP_TITLE = "Prompt"
    AUTO_FOCUS = "#copy"  # (not the scrolling body first, then Copy: each styled what is in the body again)
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="prompt.close"),
        Binding("question_mark,f1", "app.help", "Help", show=False, id="prompt.help"),
        Binding("c,y", "copy", "Copy", id="prompt.copy"),
        Binding("n", "copy_negative", "Copy negative", id="prompt.copy_negative"),
        Binding("s", "copy_settings", "Copy settings", id="prompt.copy_settings"),
    ]

    def __init__(self, record: ImageRecord, highlight_words: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.record = record
        self.highlight_words = highlight_words  # the searched words, shown where they occur

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="prompt-dialog"):
            yield Static(f"Prompt of image #{self.record.id}", classes="title")
            with VerticalScroll(id="prompt-scroll"):
                # At most SHOWN_CHARS of each (a prompt can be megabytes); Copy copies the whole text.
                yield Static(highlight(Text(printable(shown(self.record.prompt), keep_newlines=True) or "(no prompt)"),
                                       self.highlight_words), id="prompt-text")
                if self.record.negative_prompt:
                    yield Static("Negative prompt", classes="subtitle")
                    yield Static(Text(printable(shown(self.record.negative_prompt), keep_newlines=True)),
                                 id="negative-text")
            with Horizontal(classes="buttons"):
                yield Button("Copy", id="copy", variant="primary")
                if self.record.negative_prompt:
                    yield Button("Copy negative", id="copy-negative")
                yield Button("Copy settings", id="copy-settings")
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#copy", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "copy":
            self.action_copy()
        elif event.button.id == "copy-negative":
            self.action_copy_negative()
        elif event.button.id == "copy-settings":
            self.action_copy_settings()
        else:
            self.dismiss(None)

    def action_copy(self) -> None:
        # The prompt as stored, less its control characters (newlines and tabs stay).
        self.notify(copy_text(self.app, self.record.prompt), title="Copied", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # No negative prompt: no Copy negative key (nor button) to offer.
        return bool(self.record.negative_prompt) if action == "copy_negative" else True

    def action_copy_negative(self) -> None:
        if self.record.negative_prompt:
            self.notify(copy_text(self.app, self.record.negative_prompt, "Negative prompt"), title="Copied",
                        markup=False)

    def action_copy_settings(self) -> None:
        # The A1111/Forge block (prompt, negative prompt, settings), which those paste back in one go: the same text
        # an export or a download writes into the file (`export.infotext`), every setting an A1111-style file had
        # (Clip skip, Model hash…), not six of them (NEWUSER12 F6: Clip skip was lost on paste)
        self.notify(copy_text(self.app, infotext(self.record), "Prompt and settings"), title="Copied", markup=False)
