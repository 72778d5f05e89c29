"""The base of the app's dialogs (frogmouth's dialogs, posting's modals do the same).

A dialog is a ModalScreen that answers its caller with `dismiss(value)`. Closing it answers None: its close
key (Escape, bound by each dialog with an id of its own, so a keymap can change it) runs `close`. Dialogs that
answer something else when closed (what was imported, whether anything changed) override `action_close`.
The questions (ConfirmDeleteScreen, Question) and the progress dialog bind Escape to `cancel` instead:
a question answers False, the progress dialog cancels its job and stays until the job has stopped.
"""
from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

Result = TypeVar("Result")


class Dialog(ModalScreen[Result]):
    def action_close(self) -> None:
        """Close without an answer: the caller gets None."""
        self.dismiss(None)


class Question(ModalScreen[bool]):
    """A question, Cancel focused (Esc cancels, bound by each question with an id of its own): True for the `yes`
    button. `NAME` names its box and its text (`NAME-question-dialog`, `NAME-question`)."""

    NAME = "question"

    def __init__(self, title: str, text: str, yes: str, yes_id: str) -> None:
        super().__init__()
        self.title_text, self.text, self.yes, self.yes_id = title, text, yes, yes_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog question", id=f"{self.NAME}-question-dialog"):
            yield Static(self.title_text, classes="title", markup=False)
            yield Static(self.text, id=f"{self.NAME}-question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self.yes, id=self.yes_id, variant="error")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#cancel", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == self.yes_id)

    def action_cancel(self) -> None:
        self.dismiss(False)
