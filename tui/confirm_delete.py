"""The delete confirmation: Cancel has focus, Esc cancels."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from store.records import ImageRecord
from store.text import one_line, printable

PROMPT_START = 40  # characters of the prompt that name the image in the question


class ConfirmDeleteScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="delete.cancel")]

    def __init__(self, count: int, record: ImageRecord | None = None) -> None:
        """`record`: the one image to delete, named in the question."""
        super().__init__()
        self.count = count
        self.record = record

    @property
    def question(self) -> str:
        if self.count == 1 and self.record is not None:
            prompt = one_line(self.record.prompt)
            start = f'"{prompt[:PROMPT_START]}…"' if len(prompt) > PROMPT_START else f'"{prompt}"' if prompt \
                else "(no prompt)"
            return f"Are you sure you want to delete image #{self.record.id}, {start}?"
        if self.count == 1:
            return "Are you sure you want to delete this image?"
        return f"Are you sure you want to delete these {self.count} images?"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="delete-dialog"):
            yield Static(self.question, id="question", markup=False)
            if self.record is not None and self.record.linked:
                yield Static(f"Its file is deleted from your source folder too: {printable(str(self.record.path))}",
                             id="linked-file", markup=False)
            yield Static("Deleting is permanent: it cannot be undone.", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Delete", id="delete", variant="error")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#cancel", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "delete")

    def action_cancel(self) -> None:
        self.dismiss(False)
