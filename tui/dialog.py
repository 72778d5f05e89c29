"""The base of the app's dialogs (frogmouth's dialogs, posting's modals do the same).

A dialog is a ModalScreen that answers its caller with `dismiss(value)`. Closing it answers None: its close
key (Escape, bound by each dialog with an id of its own, so a keymap can change it) runs `close`. Dialogs that
answer something else when closed (what was imported, whether anything changed) override `action_close`.
The questions (ConfirmDeleteScreen, SourceQuestion) and the progress dialog bind Escape to `cancel` instead:
a question answers False, the progress dialog cancels its job and stays until the job has stopped.
"""
from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

Result = TypeVar("Result")


class Dialog(ModalScreen[Result]):
    def action_close(self) -> None:
        """Close without an answer: the caller gets None."""
        self.dismiss(None)
