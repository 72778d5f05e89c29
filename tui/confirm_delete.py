"""The delete confirmation: Cancel has focus, Esc cancels.

A delete moves to the trash (it says so, and for how long); `permanent` asks before erasing for good
(delete forever, empty trash), with its own question.
"""
from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from store.errors import StoreError
from store.records import ImageRecord
from store.sources import SourceFiles
from store.text import one_line
from store.trash import trash_days

from widgets.workers import work
from .dialog import Modal

PROMPT_START = 40  # characters of the prompt that name the image in the question


class ConfirmDeleteScreen(Modal[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="delete.cancel")]
    AUTO_FOCUS = "#cancel"

    def __init__(self, count: int, record: ImageRecord | None = None, *, permanent: bool = False,
                 question: str | None = None, files: Callable[[], SourceFiles] | None = None,
                 button: str | None = None) -> None:
        """`record`: the one image to delete, named in the question. `permanent`: erased, not trashed.
        `files`: a function that finds the files in watched source folders the delete takes with the images
        (store.sources.SourceFiles: moved into the library's trash, or erased), called in a worker so that
        the dialog shows at once; each is counted and the first few named. `button`: the confirming button's
        label when "Delete" would not say what it does (the duplicates' "Move to trash")."""
        super().__init__()
        self.files = files
        self.count = count
        # An open gallery closes a dialog whose `record` went away: a trashed image's (delete forever) is only named.
        self.record = None if permanent else record
        self._named = record
        self.permanent = permanent
        self._question = question
        self.button = button

    @property
    def question(self) -> str:
        if self._question:
            return self._question
        forever = " forever" if self.permanent else ""
        if self.count == 1 and self._named is not None:
            prompt = one_line(self._named.prompt)
            start = f'"{prompt[:PROMPT_START]}…"' if len(prompt) > PROMPT_START else f'"{prompt}"' if prompt \
                else "(no prompt)"
            stack = self._named.stack  # a stack card's top image: the others stay (new-user test 3 item 11)
            top = f" (the top of a stack of {stack}: the other {stack - 1} stay; Space on the card selects them " \
                "all)" if stack > 1 else ""
            return f"Are you sure you want to delete image #{self._named.id}{forever}, {start}{top}?"
        if self.count == 1:
            return f"Are you sure you want to delete this image{forever}?"
        return f"Are you sure you want to delete these {self.count:,} images{forever}?"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="delete-dialog"):
            yield Static(self.question, id="question", markup=False)
            yield Static("", id="linked-files", markup=False)
            if self.permanent:
                yield Static("Deleting forever is permanent: it cannot be undone.", classes="hint")
            else:
                one = self.count == 1
                yield Static(f"{'It goes' if one else 'They go'} to the trash: {'it' if one else 'they'} can be "
                             f"restored for {trash_days()} days (u right after, or t for the trash).",
                             classes="hint", id="trash-hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self.button or ("Delete forever" if self.permanent else "Delete"), id="delete",
                             variant="error")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#cancel", Button))
        self.query_one("#linked-files", Static).display = False  # shown once there is something to say
        if self.files is not None:
            self._find_files(self.files)

    @work(thread=True, exit_on_error=False)
    def _find_files(self, find: Callable[[], SourceFiles]) -> None:
        try:
            files = find()
        except StoreError:
            return  # the question stands without it; the delete itself reports a store error
        self.app.call_from_thread(self._show_files, files)

    def _show_files(self, files: SourceFiles) -> None:
        if self.is_mounted and (files.count or files.absent):
            line = self.query_one("#linked-files", Static)
            back = f" Restoring puts {'it' if files.count == 1 else 'them'} back." if files.count else ""
            line.update(files.sentence(self.count, erase=self.permanent) + ("" if self.permanent else back))
            line.display = True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.files = None  # (what it holds, a selection of a million ids, is not kept by the dialog once answered)
        self.dismiss(event.button.id == "delete")

    def action_cancel(self) -> None:
        self.files = None
        self.dismiss(False)
