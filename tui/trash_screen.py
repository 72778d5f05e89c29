"""The trash: the account's deleted images, the most recently deleted first.

Restore (r), delete forever (d, its own confirmation) and empty trash (e, asks too);
Esc goes back. Every action is also a button. Reading and changing run in a worker (a failure is the
app's one notification, and the list is read again); the
gallery behind reloads when the dialog closes after a change. The store does the work
(store/trash.py); a trashed image shows nowhere else.

Like the gallery, the list follows changes made elsewhere (another instance, the command line;
tui/following.py): a new change token reads the list again, the cursor staying on its image while it is there.
"""
from __future__ import annotations

from functools import partial
from itertools import islice

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Static

from store.errors import StoreError
from store.library import Library
from store.text import one_line, plural
from store.trash import Renamed, TrashedImage, adopted_sentence, renamed_sentence, trash_days
from widgets.key_bar import KeyBar

from .confirm_delete import ConfirmDeleteScreen
from .dialog import Dialog
from .following import LibraryFollower

PROMPT_WIDTH = 200  # characters of a prompt in its cell (the table crops to the width)


class TrashScreen(Dialog[bool]):
    """Answers True when something was restored (the gallery then reloads and shows it)."""

    HELP_TITLE = "Trash"
    BINDINGS = [
        Binding("escape", "close", "Back", id="trash.close"),
        Binding("question_mark,f1", "app.help", "Help", show=False, id="trash.help"),
        Binding("r", "restore", "Restore", id="trash.restore"),
        Binding("d,delete", "delete_forever", "Delete forever", id="trash.delete_forever"),
        Binding("e", "empty", "Empty trash", id="trash.empty"),
    ]

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        self.items: list[TrashedImage] = []
        self.restored: list[int] = []
        self.erased: list[int] = []  # erased for good here (Delete forever, Empty trash): undo names this view
        self.loaded = False
        self._busy = False  # a change of ours is running: no check for changes made elsewhere now
        self.follower: LibraryFollower[None, list[TrashedImage]] = LibraryFollower(
            self, library, group="trash-changes", apply=self._followed, read=lambda _, force: self.library.trashed(),
            ready=lambda: not self._busy)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="trash-dialog"):
            yield Static("Trash", classes="title")
            yield Static(f"Deleted images are kept for {trash_days()} days, then erased.", classes="hint",
                         id="trash-status")
            yield DataTable(id="trash-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(classes="buttons"):
                yield Button("Restore", id="restore", variant="primary")
                yield Button("Delete forever", id="delete-forever", variant="error")
                yield Button("Empty trash", id="empty", variant="error")
                yield Button("Back", id="close")
        yield KeyBar(more_action="app.help")  # the trash's keys, over the gallery's

    def on_mount(self) -> None:
        table = self.query_one("#trash-table", DataTable)
        table.add_columns("Image", "Deleted", "Erased on", "Prompt")
        self.set_focus(table)
        self.load()
        self.follower.start()

    # -- reading and changing, off the UI thread ---------------------------

    def _read(self) -> tuple[tuple[int, int], list[TrashedImage]]:
        token = self.library.change_token()  # before reading: no change missed
        return token, self.library.trashed()

    @work(thread=True, exclusive=True, group="trash", exit_on_error=False)
    def load(self, focus_index: int = 0) -> None:
        with self.library.connection():
            token, items = self._read()
        self.app.call_from_thread(self._show, items, focus_index, token)

    @work(thread=True, exclusive=True, group="trash", exit_on_error=False)
    def _change(self, what: str, ids: list[int], focus_index: int) -> None:
        self._busy = True
        timeout = 5.0  # seconds the notice stays: longer for one that says where files went
        try:
            with self.library.connection():
                try:
                    if what == "restore":
                        adopted: dict[int, str] = {}
                        renamed: Renamed = {}
                        n = self.library.restore(ids, adopted, renamed)
                        self.restored.extend(ids)
                        message = f"Restored {plural(n, 'image')}." + (
                            f" {adopted_sentence(adopted)}" if adopted else "") + (
                            f" {renamed_sentence(renamed)}" if renamed else "")
                        timeout = 10.0 if adopted or renamed else timeout
                    elif what == "forever":
                        n = self.library.delete_forever(ids)
                        self.erased.extend(ids)
                        message = f"Deleted {plural(n, 'image')} forever."
                    else:
                        listed = [item.record.id for item in self.items]  # what the user saw go
                        n = self.library.empty_trash()
                        self.erased.extend(listed)
                        message = f"Emptied the trash: {plural(n, 'image')} erased."
                except StoreError:  # restored or erased elsewhere meanwhile: said (the app's handler), list read again
                    token, items = self._read()
                    self.app.call_from_thread(self._show, items, focus_index, token)
                    raise
                token, items = self._read()
        finally:
            self._busy = False
        self.app.call_from_thread(partial(self.notify, message, markup=False, timeout=timeout))
        self.app.call_from_thread(self._show, items, focus_index, token)

    def _followed(self, token: tuple[int, int], items: list[TrashedImage]) -> None:
        """Show the list another process changed, the cursor on the image it was on (else at its row)."""
        current = self._current()
        row = current[1] if current is not None else 0
        if current is not None:
            row = next((i for i, item in enumerate(items) if item.record.id == current[0].record.id), row)
        self._show(items, row)

    def _show(self, items: list[TrashedImage], focus_index: int, token: tuple[int, int] | None = None) -> None:
        if token is not None:  # read here: newer than what a check under way read
            self.follower.read_at(token)
        self.items = items
        self.loaded = True
        table = self.query_one("#trash-table", DataTable)
        table.clear()
        for item in items:
            prompt = one_line(item.record.prompt)[:PROMPT_WIDTH] or "(no prompt)"
            table.add_row(f"#{item.record.id}", f"{item.trashed_at:%Y-%m-%d %H:%M}", f"{item.expires_at:%Y-%m-%d}",
                          prompt, key=str(item.record.id))
        if items:
            table.move_cursor(row=min(focus_index, len(items) - 1))
        n = len(items)
        self.query_one("#trash-status", Static).update(
            (f"{plural(n, 'image')} in the trash" if n else "The trash is empty")
            + f"; deleted images are kept for {trash_days()} days, then erased.")
        for button in ("#restore", "#delete-forever", "#empty"):
            self.query_one(button, Button).disabled = not n

    def _current(self) -> tuple[TrashedImage, int] | None:
        table = self.query_one("#trash-table", DataTable)
        if not self.items or not 0 <= table.cursor_row < len(self.items):
            return None
        return self.items[table.cursor_row], table.cursor_row

    # -- actions -----------------------------------------------------------

    def action_restore(self) -> None:
        current = self._current()
        if current is not None:
            self._change("restore", [current[0].record.id], current[1])

    def action_delete_forever(self) -> None:
        current = self._current()
        if current is None:
            return
        item, row = current

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._change("forever", [item.record.id], row)

        self.app.push_screen(ConfirmDeleteScreen(
            1, item.record, permanent=True, files=lambda: self.library.source_files([item.record.id])), answered)

    def action_empty(self) -> None:
        n = len(self.items)
        if not n:
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._change("empty", [], 0)

        question = f"Are you sure you want to empty the trash? {'Its image is' if n == 1 else f'Its {n:,} images are'} " \
                   "deleted forever."
        self.app.push_screen(ConfirmDeleteScreen(
            n, permanent=True, question=question, files=lambda: self.library.source_files(self.library.trashed_ids())), answered)

    def action_close(self) -> None:
        self.dismiss(bool(self.restored))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = {"restore": self.action_restore, "delete-forever": self.action_delete_forever,
                  "empty": self.action_empty, "close": self.action_close}.get(event.button.id or "")
        if action is not None:
            action()

    @on(DataTable.RowSelected, "#trash-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()  # a click or Enter on a row only chooses it: r (or Restore) restores


def chunked_job(ids: list[int], act, done: list[int], verb: str, size: int):
    """A job for the progress dialog: `act(chunk)` on `size` ids at a time (Cancel between chunks) returns
    the ids it did, which go into `done` (the gallery's delete to the trash and its undo)."""

    def job(progress, cancelled) -> None:
        chunks = iter(ids)
        while chunk := list(islice(chunks, size)):  # itertools' batching recipe (itertools.batched: Python 3.12)
            if cancelled():
                break
            done.extend(act(chunk))
            progress(len(done), len(ids), verb)

    return job
