"""The trash: the account's deleted images, the most recently deleted first, however many (a million too).

The list (widgets/trash_list.py) reads a page at a time; beside it the image under the cursor: its picture, when it
was deleted, when it will be erased, where a restore puts it back and its prompt. Enter shows it large (read only; ←/→
go through the trash, the list's cursor following), p its prompt, i its info.

Space selects (or a click on a line's check box), ctrl+a selects the whole trash (without reading it: the
selection is "every image deleted up to now but these"), Esc clears; the bar that says how many are selected has
Restore selected and Delete selected permanently (which asks, saying how many, that it cannot be undone and what
becomes of files of watched folders). Without a selection r restores and d deletes forever the image under the
cursor. R restores the whole trash (asks), e empties it (asks). Several images go in batches behind the app's
progress dialog (Cancel between batches; store/trash.py's walk_ids reads the trash a batch at a time); the list
is read again after each change. Every action is also a button. The store does the work (store/trash.py); a
trashed image shows nowhere else; the gallery behind reloads when the dialog closes after a restore.

Like the gallery, the list follows changes made elsewhere (another instance, the command line;
tui/following.py): a new change token reads the list again, the cursor staying on its image while it is there.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, islice
from typing import Callable, Iterator

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from store.errors import NoRoomToErase, StoreError
from store.library import Library
from store.text import one_line, plural, printable
from store.trash import Renamed, TrashedImage, adopted_sentence, renamed_sentence, trash_days, walk_ids
from widgets.workers import work
from widgets.key_bar import KeyBar
from widgets.large_picture import LargePicture
from widgets.trash_list import PAGE, TrashHeader, TrashList, TrashSelection

from .confirm_delete import ConfirmDeleteScreen
from .dialog import Dialog, Question
from .following import LibraryFollower
from .info_screen import InfoScreen
from .picture_screen import PictureScreen
from .progress_screen import JobOutcome, ProgressScreen, run_without_progress
from .prompt_screen import PromptScreen

CHUNK = 1000  # images restored or erased per transaction (Cancel between them: bench/trash.py)
PROMPT_LINES = 4  # lines of the prompt beside the list


def today() -> date:
    """The local date (the days left before an image is erased count from it)."""
    return date.today()


@dataclass
class Snapshot:
    """The list as read in a worker: how many, the page at the cursor, the cursor's place, the selection's count."""

    token: tuple[int, int] | None
    total: int
    pages: dict[int, list[TrashedImage]]
    cursor: int
    selection: TrashSelection | None = None  # counted again (select-all), or without ids that left the trash
    asked: TrashSelection | None = None  # the selection as it was when read: one changed since is kept as it is


@dataclass
class Targets:
    """What an action is on: some ids, or every image in the trash deleted up to `until` (None: now) but `ids`."""

    count: int
    ids: list[int]
    everything: bool = False
    until: datetime | None = None

    def batches(self, library: Library, size: int | None = None) -> Iterator[list[int]]:
        size = size or CHUNK
        if self.everything:
            return walk_ids(library, size, self.until, self.ids)
        chunks = iter(self.ids)
        return iter(lambda: list(islice(chunks, size)), [])

    def all_ids(self, library: Library) -> list[int]:
        """Every id (the delete question's files, read in its worker: ids only, a few thousand a query)."""
        return list(chain.from_iterable(self.batches(library, 5000)))


class ConfirmRestoreAllScreen(Question):
    """Restoring the whole trash: asks first, saying how many."""

    NAME = "restore-all"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="restore-all.cancel")]


class TrashPictureScreen(PictureScreen):
    """The trash's large view (Enter in the trash): ←/→ go through the trash's list, whose cursor follows (a page not
    read yet is read, and the image shown once it is); the keys that change an image in the gallery's large view
    say what to do with one in the trash instead of nothing (new-user test 8 #9)."""

    HELP_TITLE = "Large view (trash)"
    BINDINGS = [Binding("f,d,delete,r,a,b", "in_trash", "In the trash", show=False, id="trash-picture.in_trash")]

    def __init__(self, trash: "TrashScreen", item: TrashedImage, place: int) -> None:
        super().__init__([item.record], 0, trash.image_mode)
        self.trash = trash
        self.place = place

    def position(self) -> tuple[int, int]:
        return self.place, self.trash.trash_list.total

    def action_step(self, delta: int) -> None:
        trash_list = self.trash.trash_list
        trash_list.move_to(self.place + delta)  # its Highlighted brings the image here (follow)
        trash_list.want(trash_list.cursor)

    def follow(self, item: TrashedImage, place: int) -> None:
        """Show this image of the trash (the list's cursor is on it)."""
        self.place, self.records, self.index = place, [item.record], 0
        self.query_one("#picture-large", LargePicture).show(item.record)
        self._caption()
        self.refresh_bindings()

    def action_in_trash(self) -> None:
        self.notify("This image is in the trash: Esc, then r restores it or d deletes it forever.", timeout=5)


class TrashScreen(Dialog[bool]):
    """Answers True when something was restored (the gallery then reloads and shows it)."""

    HELP_TITLE = "Trash"
    # at 80 columns the bulk bar has no room for its "Esc clears" (it showed a dangling "Esc": NEWUSER8 #13)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    AUTO_FOCUS = "#trash-list"
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="trash.close"),
        Binding("question_mark,f1", "app.help", "Help", show=False, id="trash.help"),
        Binding("r", "restore", "Restore", id="trash.restore"),
        Binding("d,delete", "delete_forever", "Delete forever", id="trash.delete_forever"),
        Binding("e", "empty", "Empty trash", id="trash.empty"),
        Binding("R", "restore_all", "Restore all", id="trash.restore_all"),
        Binding("space", "select", "Select", id="trash.select"),
        Binding("ctrl+a", "select_all", "Select all", id="trash.select_all"),
        Binding("enter", "view", "View", id="trash.view"),
        Binding("p", "prompt", "Prompt", id="trash.prompt"),
        Binding("i", "info", "Info", id="trash.info"),
    ]

    def __init__(self, library: Library, image_mode: str = "none") -> None:
        super().__init__()
        self.library = library
        self.image_mode = image_mode
        self.restored: list[int] = []
        self.erased: list[int] = []  # erased for good here (Delete forever, Empty trash): undo names this view
        self.loaded = False
        self._busy = False  # a change of ours is running: no check for changes made elsewhere now
        self._stale = False  # a change of ours is made and the list not read again yet: it still shows what changed
        self.follower: LibraryFollower[tuple[int | None, int, TrashSelection], Snapshot] = LibraryFollower(
            self, library, group="trash-changes", apply=self._followed, read=self._read_followed,
            seen=self._seen, ready=lambda: not self._busy)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="trash-dialog"):
            yield Static("Trash", classes="title")
            with Horizontal(id="trash-status-row"):
                yield Static(f"Deleted images are kept for {trash_days()} days, then erased.", classes="hint",
                             id="trash-status")
                with Horizontal(id="trash-bulk-bar"):
                    yield Static("", id="trash-bulk-count")
                    yield Button("Restore selected", id="restore-selected", variant="primary", compact=True)
                    yield Button("Delete selected permanently", id="delete-selected", variant="error", compact=True)
                    yield Button("Clear", id="clear-selection", compact=True)
                    yield Static("Esc clears", id="trash-bulk-keys")
            with Horizontal(id="trash-body"):
                with Vertical(id="trash-list-side"):
                    yield TrashHeader("", id="trash-header")
                    yield TrashList(self._fetch, id="trash-list")
                with Vertical(id="trash-preview"):
                    yield LargePicture(self.image_mode, id="trash-picture")
                    yield Static("", id="trash-details", markup=False)
            with Horizontal(classes="buttons", id="trash-buttons"):
                yield Button("Restore", id="restore", variant="primary", compact=True)
                yield Button("Delete forever", id="delete-forever", variant="error", compact=True)
                yield Button("Restore all", id="restore-all", compact=True)
                yield Button("Empty trash", id="empty", variant="error", compact=True)
                yield Button("Back", id="close", compact=True)
        yield KeyBar(more_action="app.help")  # the trash's keys, over the gallery's

    @property
    def trash_list(self) -> TrashList:
        return self.query_one("#trash-list", TrashList)

    def on_mount(self) -> None:
        self.query_one("#trash-bulk-bar").display = False
        self.set_focus(self.trash_list)
        self.load()
        self.follower.start()

    def on_resize(self) -> None:
        self._show_header()

    ON_AN_IMAGE = {"restore", "delete_forever", "empty", "restore_all", "select", "select_all", "view", "prompt", "info"}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """An empty trash offers none of the actions on its images (its key bar kept ⏎ View, p Prompt, i Info)."""
        if action in self.ON_AN_IMAGE and self.loaded and not self.trash_list.total:
            return False
        return True

    def _show_header(self) -> None:
        selection = self.trash_list.selection
        self.query_one(TrashHeader).show(self.trash_list.scrollable_content_region.width,  # the list's columns
                                         bool(selection) and len(selection) == self.trash_list.total)

    @on(TrashHeader.BoxClicked)
    def _header_box(self) -> None:
        if self.trash_list.selection:
            self.trash_list.clear_selection()
        else:
            self.action_select_all()

    # -- reading, off the UI thread ---------------------------------------------------

    def _fetch(self, offset: int, limit: int) -> list[TrashedImage]:
        """A page for the list (its worker)."""
        with self.library.connection():
            return self.library.trashed(offset, limit)

    def _snapshot(self, cursor: int, keep: int | None = None,
                  selection: TrashSelection | None = None) -> Snapshot:
        """Read in a worker: the count, the page at the cursor (on image `keep` while it is in the trash)."""
        token = self.library.change_token()  # before reading: no change missed
        total = self.library.count_trashed()
        if keep is not None:
            at = self.library.trash_position(keep)
            cursor = at if at is not None else cursor
        cursor = max(0, min(cursor, total - 1))
        page = cursor // PAGE
        pages = {page: self.library.trashed(page * PAGE, PAGE)} if total else {}
        asked = selection
        if selection is not None:
            if selection.everything:
                selection = TrashSelection(set(selection.ids), selection.until, self.library.count_trashed(
                    selection.until, selection.ids))
            elif selection.ids:
                selection = TrashSelection(set(self.library.own_existing(selection.ids, trashed=True)))
        return Snapshot(token, total, pages, cursor, selection, asked)

    def load(self, cursor: int = 0, keep: int | None = None) -> None:
        """Read the list again (in a worker), the cursor at `cursor`, or on image `keep` while it is in the trash."""
        selection = self.trash_list.selection
        self._load(cursor, keep, TrashSelection(set(selection.ids), selection.until, selection.total))

    @work(thread=True, exclusive=True, group="trash", exit_on_error=False)
    def _load(self, cursor: int, keep: int | None, selection: TrashSelection) -> None:
        try:
            with self.library.connection():
                snapshot = self._snapshot(cursor, keep, selection)
        except BaseException:  # said by the app (its worker failure): the keys are not held back for a list not read
            self.app.call_from_thread(setattr, self, "_stale", False)
            raise
        self.app.call_from_thread(self._show, snapshot)

    def _seen(self) -> tuple[int | None, int, TrashSelection]:
        current, selection = self.trash_list.current, self.trash_list.selection
        return ((current.record.id if current is not None else None), self.trash_list.cursor,
                TrashSelection(set(selection.ids), selection.until, selection.total))  # a copy: read in a worker

    def _read_followed(self, seen: tuple[int | None, int, TrashSelection], force: bool) -> Snapshot:
        keep, cursor, selection = seen
        return self._snapshot(cursor, keep, selection)

    def _followed(self, token: tuple[int, int], snapshot: Snapshot) -> None:
        """Show the list another process changed, the cursor on the image it was on (else at its place)."""
        snapshot.token = None  # the follower took it
        self._show(snapshot)

    def _show(self, snapshot: Snapshot) -> None:
        if snapshot.token is not None:  # read here: newer than what a check under way read
            self.follower.read_at(snapshot.token)
        self.loaded = True
        self._stale = False
        trash_list = self.trash_list
        trash_list.load(snapshot.total, snapshot.pages, snapshot.cursor)
        now, asked = trash_list.selection, snapshot.asked
        if snapshot.selection is not None and asked is not None and (now.ids, now.until) == (asked.ids, asked.until):
            trash_list.set_selection(snapshot.selection if snapshot.selection else TrashSelection())
        n = snapshot.total
        self._say_count(n)
        for button in ("#restore", "#delete-forever", "#restore-all", "#empty"):
            self.query_one(button, Button).disabled = not n
        self.refresh_bindings()  # the key bar: an empty trash's has no keys for images
        self._show_selection()
        if not n:
            self._show_details(None)

    def _say_count(self, n: int) -> None:
        self.query_one("#trash-status", Static).update(
            (f"{plural(n, 'image')} in the trash; each is kept" if n else
             "The trash is empty; deleted images are kept") + f" {trash_days()} days, then erased.")

    @on(TrashList.Highlighted)
    def _highlighted(self, event: TrashList.Highlighted) -> None:
        self._show_details(event.item)
        if event.item is not None:  # the large view opened from here shows the image under the cursor
            for screen in self.app.screen_stack:
                if isinstance(screen, TrashPictureScreen) and screen.trash is self:
                    screen.follow(event.item, self.trash_list.cursor)

    def _show_details(self, item: TrashedImage | None) -> None:
        picture = self.query_one("#trash-picture", LargePicture)
        details = self.query_one("#trash-details", Static)
        picture.display = item is not None
        if item is None:
            details.update("" if self.trash_list.total else "Images you delete wait here until they are erased.")
            return
        picture.show(item.record)
        days = (item.expires_at.date() - today()).days
        when = "today" if days <= 0 else "tomorrow" if days == 1 else f"in {days} days"
        back = (f"into {printable(item.restore_to)}" if item.restore_to else
                "into the gallery (the library's own copy)")
        prompt = one_line(item.record.prompt) or "(no prompt)"
        details.update(Text.assemble(
            (f"#{item.record.id}", "bold"), f"  {item.record.width}×{item.record.height}\n",
            ("Deleted ", "bold"), f"{item.trashed_at:%Y-%m-%d %H:%M}\n",
            ("Erased ", "bold"), f"{item.expires_at:%Y-%m-%d} ({when})\n",
            ("Restores ", "bold"), f"{back}\n",
            (prompt, "italic")))

    # -- the selection ------------------------------------------------------------------

    @on(TrashList.SelectionChanged)
    def _selection_changed(self) -> None:
        self._show_selection()

    def _show_selection(self) -> None:
        self._show_header()
        count = len(self.trash_list.selection)
        bar = self.query_one("#trash-bulk-bar")
        if bar.display != (count > 0):
            bar.display = count > 0
            self.query_one("#trash-status").display = count == 0
        if count:
            self.query_one("#trash-bulk-count", Static).update(f"{count:,} selected")

    def action_select(self) -> None:
        item = self._current()
        if item is not None:
            self.trash_list.toggle(item)

    def action_select_all(self) -> None:
        if self.trash_list.total:
            self._select_all()

    @work(thread=True, exclusive=True, group="trash-select", exit_on_error=False)
    def _select_all(self) -> None:
        """Counted in a worker: "every image deleted up to the newest delete now" holds no ids."""
        with self.library.connection():
            until = self.library.newest_trashed()
            total = self.library.count_trashed(until) if until is not None else 0
        if until is not None:
            self.app.call_from_thread(self._selected_all, until, total)

    def _selected_all(self, until: datetime, total: int) -> None:
        self.trash_list.select_everything(until, total)
        self.notify(f"{plural(total, 'image')} selected: the whole trash.", timeout=3)

    def _targets(self) -> Targets | None:
        """The selection if there is one, else the image under the cursor; none while a change of ours runs or the
        list does not show it yet: `r r` restored the image and then said "Image #42 is not in the trash" of the same
        image, still on the list (NEWUSER13 #3)."""
        if self._busy or self._stale:
            self.notify("Still busy with the last change: try again in a moment.", severity="warning", timeout=3)
            return None
        selection = self.trash_list.selection
        if selection:
            return Targets(len(selection), sorted(selection.ids), selection.everything, selection.until)
        item = self._current()
        return Targets(1, [item.record.id]) if item is not None else None

    def _current(self) -> TrashedImage | None:
        item = self.trash_list.current
        if item is None and self.trash_list.is_loading(self.trash_list.cursor):
            self.notify("Still loading: try again in a moment.", severity="warning", timeout=3)
        return item

    # -- changing: one image quietly, several behind the progress dialog ----------------------

    def _run(self, title: str, targets: Targets, act: Callable[[list[int]], list[int]], verb: str,
             finished: Callable[[list[int], JobOutcome], None]) -> None:
        done: list[int] = []

        def job(progress, cancelled) -> None:
            for chunk in targets.batches(self.library):
                if cancelled():
                    break
                try:
                    done.extend(act(chunk))
                except NoRoomToErase as exc:  # the disk stopped an erase part-way: what it erased is done, and
                    done.extend(exc.erased)   # the sentence counts the whole job's (new-user test 10, K2)
                    raise NoRoomToErase(exc.root, done, targets.count) from None
                progress(len(done), targets.count, verb)

        def ended(outcome: JobOutcome | None) -> None:
            self._busy = False
            finished(done, outcome or JobOutcome(cancelled=True))

        self._busy = True
        if targets.count > 1 or targets.everything:
            self.app.push_screen(ProgressScreen(title, job, total=targets.count), ended)
        else:
            self._run_quietly(job, ended)

    @work(thread=True, group="trash-job", exit_on_error=False)
    def _run_quietly(self, job, ended) -> None:
        self.app.call_from_thread(ended, run_without_progress(job))  # a failure is handed to `ended`

    def _after(self, done: list[int], outcome: JobOutcome, message: str, timeout: float = 5) -> None:
        """Say what was done (and a failure: the store's sentence), drop it from the selection, read the list again."""
        if outcome.error is not None:
            from .app import failure_text

            self.notify(failure_text(outcome.error), title="Not done", severity="error", markup=False, timeout=12)
        if message:
            self.notify(message, markup=False, timeout=timeout)
        selection = self.trash_list.selection
        if outcome.cancelled or outcome.error is not None:
            if not selection.everything:
                selection.ids.difference_update(done)
        else:
            self.trash_list.clear_selection()
        if done:  # the count at once, the list read again after (it said the count before a cancel for a moment)
            self._say_count(max(0, self.trash_list.total - len(done)))
        current = self.trash_list.current
        self._stale = True
        self.load(self.trash_list.cursor, current.record.id if current is not None else None)

    def _restore_chunk(self, adopted: dict[int, str], renamed: Renamed) -> Callable[[list[int]], list[int]]:
        def act(chunk: list[int]) -> list[int]:
            try:
                self.library.restore(chunk, adopted, renamed)
            except StoreError:  # some were restored or erased elsewhere meanwhile: the others (else it is said)
                left = self.library.own_existing(chunk, trashed=True)
                if len(left) == len(chunk) or len(chunk) == 1:
                    raise
                chunk = [i for i in chunk if i in left]
                self.library.restore(chunk, adopted, renamed)
            self.restored.extend(chunk)
            return chunk
        return act

    def _erase_chunk(self, chunk: list[int]) -> list[int]:
        try:
            self.library.delete_forever(chunk)
        except NoRoomToErase as exc:  # a full disk: trying the rest again finds no more room ("nothing was erased")
            self.erased.extend(exc.erased)
            raise
        except StoreError:  # some were restored or erased elsewhere meanwhile: the others (else it is said)
            left = self.library.own_existing(chunk, trashed=True)
            if len(left) == len(chunk) or len(chunk) == 1:
                raise
            chunk = [i for i in chunk if i in left]
            self.library.delete_forever(chunk)
        self.erased.extend(chunk)
        return chunk

    def restore(self, targets: Targets, title: str) -> None:
        adopted: dict[int, str] = {}
        renamed: Renamed = {}

        def finished(done: list[int], outcome: JobOutcome) -> None:
            said = (f" {adopted_sentence(adopted)}" if adopted else "") + (
                f" {renamed_sentence(renamed)}" if renamed else "")
            if outcome.cancelled:
                message = f"Cancelled: restored {len(done):,} of {targets.count:,} images; the rest are still in " \
                          "the trash." + said
            else:
                message = (f"Restored {plural(len(done), 'image')}." + said) if done else ""
            self._after(done, outcome, message, 10 if said else 5)

        self._run(title, targets, self._restore_chunk(adopted, renamed), "restored", finished)

    def erase(self, targets: Targets, title: str, emptying: bool = False) -> None:
        read_only = self.library.read_only  # a full disk (store/room.py): erasing opens it for writing

        def finished(done: list[int], outcome: JobOutcome) -> None:
            if outcome.cancelled:
                message = f"Cancelled: deleted {len(done):,} of {targets.count:,} images forever; the rest are " \
                          "still in the trash."
            elif not done:
                message = ""
            elif emptying and outcome.error is None:
                message = f"Emptied the trash: {plural(len(done), 'image')} erased."
            else:
                message = f"Deleted {plural(len(done), 'image')} forever."
            if message and read_only and not self.library.read_only:
                message += " That made room: the library is no longer read only."
            self._after(done, outcome, message)

        self._run(title, targets, self._erase_chunk, "deleted forever", finished)

    # -- actions ------------------------------------------------------------------------

    def _refused(self, erasing: bool = False) -> bool:
        """Whether the library refuses this change (said): a library read only for this user refuses every one; on
        a full disk a restore is refused, an erase is not (it makes room: store/room.py)."""
        if erasing and self.library.may_erase():
            return False
        try:
            self.library.require_writable()
        except StoreError as exc:
            self.notify(str(exc), title="Read only", severity="warning", markup=False, timeout=12)
            return True
        return False

    def action_restore(self) -> None:
        if self._refused():
            return
        targets = self._targets()
        if targets is not None:
            self.restore(targets, f"Restoring {plural(targets.count, 'image')}")

    def action_delete_forever(self) -> None:
        if self._refused(erasing=True):
            return
        targets = self._targets()
        if targets is None:
            return
        record = self.trash_list.current.record if targets.count == 1 and not self.trash_list.selection and self.trash_list.current \
            else None

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.erase(targets, f"Deleting {plural(targets.count, 'image')} forever")

        self.app.push_screen(ConfirmDeleteScreen(
            targets.count, record, permanent=True,
            files=lambda: self.library.source_files(targets.all_ids(self.library))), answered)

    def action_empty(self) -> None:
        n = self.trash_list.total
        if not n or self._refused(erasing=True):
            return
        targets = Targets(n, [], everything=True)

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.erase(targets, f"Emptying the trash: {plural(n, 'image')}", emptying=True)

        question = f"Are you sure you want to empty the trash? {'Its image is' if n == 1 else f'Its {n:,} images are'} " \
                   "deleted forever."
        self.app.push_screen(ConfirmDeleteScreen(
            n, permanent=True, question=question,
            files=lambda: self.library.source_files(targets.all_ids(self.library))), answered)

    def action_restore_all(self) -> None:
        n = self.trash_list.total
        if not n or self._refused():
            return
        targets = Targets(n, [], everything=True)

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.restore(targets, f"Restoring the whole trash: {plural(n, 'image')}")

        self.app.push_screen(ConfirmRestoreAllScreen(
            "Restore all", f"Restore {'the image' if n == 1 else f'all {n:,} images'} in the trash? "
            f"{'It goes' if n == 1 else 'They go'} back into the gallery, and files of watched folders back into "
            "their folders.", "Restore all", "restore"), answered)

    def action_view(self) -> None:
        item = self._current()
        if item is not None:
            self.app.push_screen(TrashPictureScreen(self, item, self.trash_list.cursor))

    def action_prompt(self) -> None:
        item = self._current()
        if item is not None:
            self.app.push_screen(PromptScreen(item.record))

    def action_info(self) -> None:
        item = self._current()
        if item is not None:
            self.app.push_screen(InfoScreen(item.record))

    def action_close(self) -> None:
        if self.trash_list.selection:  # Esc clears the selection first, as in the gallery
            self.trash_list.clear_selection()
            return
        self.dismiss(bool(self.restored))

    @on(TrashList.Opened)
    def _opened(self) -> None:
        self.action_view()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = {"restore": self.action_restore, "delete-forever": self.action_delete_forever,
                  "restore-all": self.action_restore_all, "empty": self.action_empty,
                  "restore-selected": self.action_restore, "delete-selected": self.action_delete_forever,
                  "clear-selection": self.trash_list.clear_selection,
                  "close": lambda: self.dismiss(bool(self.restored))}.get(event.button.id or "")
        if action is not None:
            action()


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
