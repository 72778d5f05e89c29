"""The delete confirmation: Cancel has focus, Esc cancels.

A delete moves to the trash (it says so, and for how long); `permanent` asks before erasing for good
(delete forever, empty trash), with its own question.
"""
from __future__ import annotations

from typing import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from store.errors import StoreError
from store.records import ImageRecord
from store.text import one_line, printable
from store.trash import trash_days

PROMPT_START = 40  # characters of the prompt that name the image in the question


class ConfirmDeleteScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="delete.cancel")]

    def __init__(self, count: int, record: ImageRecord | None = None, *, permanent: bool = False,
                 question: str | None = None, linked: int | Callable[[], int] | None = None) -> None:
        """`record`: the one image to delete, named in the question. `permanent`: erased, not trashed.
        `linked`: how many of the images are files in watched source folders (those files move into the
        library's trash), or a function that counts them (called in a worker: the dialog shows at once)."""
        super().__init__()
        self.linked = linked
        self.count = count
        # An open gallery closes a dialog whose `record` went away: a trashed image's (delete forever) is only named.
        self.record = None if permanent else record
        self._named = record
        self.permanent = permanent
        self._question = question

    @property
    def question(self) -> str:
        if self._question:
            return self._question
        forever = " forever" if self.permanent else ""
        if self.count == 1 and self._named is not None:
            prompt = one_line(self._named.prompt)
            start = f'"{prompt[:PROMPT_START]}…"' if len(prompt) > PROMPT_START else f'"{prompt}"' if prompt \
                else "(no prompt)"
            return f"Are you sure you want to delete image #{self._named.id}{forever}, {start}?"
        if self.count == 1:
            return f"Are you sure you want to delete this image{forever}?"
        return f"Are you sure you want to delete these {self.count} images{forever}?"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="delete-dialog"):
            yield Static(self.question, id="question", markup=False)
            if self.record is not None and self.record.linked and not self.permanent:
                yield Static(f"Its file moves from your source folder into the library's trash: "
                             f"{printable(str(self.record.path))}", id="linked-file", markup=False)
            elif self.linked is not None and not self.permanent:
                yield Static(self._linked_text(self.linked) if isinstance(self.linked, int) else "",
                             id="linked-files", markup=False)
            if self.permanent:
                yield Static("Deleting forever is permanent: it cannot be undone.", classes="hint")
            else:
                one = self.count == 1
                yield Static(f"{'It goes' if one else 'They go'} to the trash: {'it' if one else 'they'} can be "
                             f"restored for {trash_days()} days (u right after, or t for the trash).",
                             classes="hint", id="trash-hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Delete forever" if self.permanent else "Delete", id="delete", variant="error")

    def _linked_text(self, n: int) -> str:
        """What happens to files in watched folders (nothing to say when none of the images is one)."""
        if n <= 0:
            return ""
        if self.count == 1:
            return "Its file moves from your source folder into the library's trash."
        if n >= self.count:
            return "Their files move from your source folders into the library's trash (restoring puts them back)."
        return (f"{n} of them {'is a file' if n == 1 else 'are files'} in your source folders: "
                f"{'that file moves' if n == 1 else 'those files move'} into the library's trash (restoring puts "
                f"{'it' if n == 1 else 'them'} back).")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#cancel", Button))
        for line in self.query("#linked-files").results(Static):  # shown once there is something to say
            line.display = isinstance(self.linked, int) and self.linked > 0
        if callable(self.linked):
            self._count_linked(self.linked)

    @work(thread=True, exit_on_error=False)
    def _count_linked(self, count: Callable[[], int]) -> None:
        try:
            n = count()
        except StoreError:
            return  # the question stands without it; the delete itself reports a store error
        self.app.call_from_thread(self._show_linked, n)

    def _show_linked(self, n: int) -> None:
        if self.is_mounted and n > 0:
            line = self.query_one("#linked-files", Static)
            line.update(self._linked_text(n))
            line.display = True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "delete")

    def action_cancel(self) -> None:
        self.dismiss(False)
