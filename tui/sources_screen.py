"""Source folders: the folders the library follows, the files skipped in them, and adding one.

Adding a folder scans it in a child process at a lower priority (store/scan_child.py),
so the gallery stays quick during a big first scan, with a progress bar and Cancel; removing
one asks first, since its images' favorites and collections go with them. The
store does the work (store/sources.py); the open app's watcher follows the change.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from store.errors import AlreadyFollowed, StoreError
from store.library import Library
from store.scan_child import run_in_child
from store.text import one_line, plural
from widgets.workers import work
from widgets.typing_goes_to import typing_goes_to

from .dialog import Dialog, Question
from .import_screen import CompletesAPath, PathSuggester, PathTab, typed_path
from .progress_screen import ProgressScreen


PATH_ROOM = 60  # characters of a source's path under its name: the list's width at 80x24


def middle_cut(path: str, room: int = PATH_ROOM) -> str:
    """A long path cut in its middle, at separators: "/tmp/tester/…/session-42/batch-7" (NEWUSER7 #21: cut at its
    end, two sources named "output" under different tools looked alike)."""
    if len(path) <= room:
        return path
    head = path[: room // 3]
    head = head[: head.rfind("/") + 1] or head
    tail = path[len(path) - (room - len(head) - 1):]
    slash = tail.find("/")
    return head + "…" + (tail[slash:] if 0 <= slash < len(tail) - 1 else tail)


@dataclass
class SourceRequest:
    """What the user asked for: add `folder` (copying or not), or remove it."""

    action: str  # "add" or "remove"
    folder: str
    copy: bool = False


class SkippedFiles(VerticalScroll):
    """The highlighted source's skipped files. A stop for Tab only when there is something to scroll: between
    the list and the path it swallowed what was typed next ("No file skipped." has nothing to scroll)."""

    def allow_focus(self) -> bool:
        return self.max_scroll_y > 0


class SourceList(OptionList):
    """The followed folders: a path typed here goes into "Add a folder" (the list has the focus when the dialog
    opens on a library that follows folders already)."""

    def on_key(self, event: events.Key) -> None:
        typing_goes_to(event, self.screen.query_one("#new-source", Input))

    # ↓ on the last folder stays there (as the app's other lists do): it went round to the first, and Delete
    # then asked about that one (NEWUSER5 §11)
    def action_cursor_down(self) -> None:
        if self.highlighted is None or self.highlighted < self.option_count - 1:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.highlighted is None or self.highlighted > 0:
            super().action_cursor_up()


class SourcesScreen(CompletesAPath, Dialog[SourceRequest | None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="sources.close"),
        Binding("tab", "complete", "Complete the path", show=False, id="sources.complete"),
        Binding("delete", "remove", "Remove the highlighted folder", show=False, id="sources.remove"),
    ]

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        # read in a worker once the dialog shows (`_read_sources`): each source's images and files counted take
        # half a second for a folder of a million pictures (issue 11)
        self.sources: list = []
        self.loaded = False
        self._looking: SourceRequest | None = None  # the folder being looked at before it is followed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="sources-dialog"):
            yield Static("Source folders", classes="title")
            yield Static(self._hint(), classes="hint", id="sources-hint")
            yield SourceList(Option(Text("Reading the followed folders…"), disabled=True), id="source-list")
            with SkippedFiles(id="source-details"):
                yield Static("", id="source-bad", markup=False)
            self.path_tab = PathTab(
                Input(placeholder="Add a folder: type its path (Tab completes), Enter", id="new-source",
                      suggester=PathSuggester(folders_only=True), select_on_focus=False),  # a path begun on the list goes on
                Static("", id="source-matches", classes="hint", markup=False), folders_only=True)
            yield self.path_tab.field
            yield self.path_tab.matches  # Tab's matches, when several
            # why a typed folder cannot be added, or the whole path a relative one stands for
            yield Static("", id="source-note", classes="hint", markup=False)
            yield Checkbox("Copy its images into the library (else they stay where they are)", id="copy-source")
            with Horizontal(classes="buttons"):
                yield Button("Remove", id="remove", variant="error", disabled=True)  # until a folder is listed
                yield Button("Add", id="add", variant="primary")
                yield Button("Close", id="close")

    def _hint(self) -> str:
        return ("Their images join your library where they are; new ones appear as they are written."
                + (" Delete removes the highlighted one." if self.sources else ""))

    def _options(self) -> list[Option]:
        if not self.sources:
            return [Option(Text("You follow no folder yet."), disabled=True)]
        options = []
        for source in self.sources:
            watched = "folder not there" if source.missing else "watched" if source.watched else "not watched"
            bad = f", {len(source.bad):,} skipped" if source.bad else ""
            images = plural(source.images, "image")
            # the folder's name and its state on one line, the whole path below it (a long path wraps
            # there without cutting the name or the state)
            label = Text.assemble((one_line(source.path.name or str(source.path)), "bold"),
                                  f"  ({source.mode}, {images}{bad}, {watched})\n",
                                  (middle_cut(one_line(str(source.path))), "dim"))
            options.append(Option(label, id=str(source.id)))
        return options

    def _details(self, index: int) -> str:
        if not self.sources or index is None or index >= len(self.sources):
            return ""
        source = self.sources[index]
        if source.missing:
            return ("The folder is not there (moved, deleted, or its disk unmounted): its images stay in the "
                    "library, and it is followed again once it is back. Remove it to stop following it.")
        if not source.bad:
            return "No file skipped."
        # one line a file, no heading line: at 80×24 the box holds two lines, and showed the first file only
        return "\n".join(f"Skipped {one_line(name)}: {one_line(reason)}" for name, reason in source.bad)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#source-list"))  # (a path typed there goes into "Add a folder")
        self._read_sources()

    @work(thread=True, exclusive=True, group="sources-read", exit_on_error=False)
    def _read_sources(self) -> None:
        try:
            with self.library.connection():
                sources = self.library.sources()
        except Exception as exc:  # noqa: BLE001 - said on the UI thread
            self.app.call_from_thread(self._sources_failed, exc)
            return
        self.app.call_from_thread(self._sources_read, sources)

    def _sources_read(self, sources: list) -> None:
        if not self.is_attached:
            return
        self.sources, self.loaded = sources, True
        listing = self.query_one("#source-list", SourceList)
        listing.clear_options()
        listing.add_options(self._options())
        if sources:
            listing.highlighted = 0
        self.query_one("#sources-hint", Static).update(self._hint())
        self.query_one("#source-bad", Static).update(self._details(0))
        self.query_one("#remove", Button).disabled = not sources
        if not sources and self.focused is listing:
            self.set_focus(self.query_one("#new-source", Input))

    def _sources_failed(self, exc: BaseException) -> None:
        """The library cannot be read now: said, and the dialog, which has nothing to show, closes."""
        if not self.is_attached:
            return
        from .app import failure_text

        self.notify(failure_text(exc), title="Not done", severity="error", markup=False, timeout=12)
        self.dismiss(None)

    @on(OptionList.OptionHighlighted, "#source-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one("#source-bad", Static).update(self._details(event.option_index))

    @on(Input.Changed, "#new-source")
    def _typed(self, event: Input.Changed) -> None:  # (the line of Tab's matches: CompletesAPath)
        typed = event.value.strip()
        whole = str(typed_path(typed).absolute()) if typed else ""
        self._note(f"That is {whole}" if whole and whole != typed else "")

    def _note(self, text: str, error: bool = False) -> None:
        note = self.query_one("#source-note", Static)
        note.update(Text(text, style="bold red" if error else ""))
        note.display = bool(text)

    @on(Input.Submitted, "#new-source")
    @on(Button.Pressed, "#add")
    def _add(self) -> None:
        typed = self.query_one("#new-source", Input).value.strip()
        if not typed:
            self._note("Type the folder's path first.", error=True)
            self.set_focus(self.query_one("#new-source", Input))
            return
        copy = self.query_one("#copy-source", Checkbox).value
        try:  # the reason it would be refused, here, before any scan (the store checks again when it adds)
            path = self.library.check_source(typed_path(typed), "copy" if copy else "link")  # quoted, file://: unwrapped
        except AlreadyFollowed as exc:  # nothing to do, and no mistake: said plainly
            self._note(str(exc))
            self.set_focus(self.query_one("#new-source", Input))
            return
        except StoreError as exc:
            self._refused(str(exc))
            return
        request = SourceRequest("add", str(path), copy)
        self._looking = request
        self._note(f"Looking at {one_line(str(path))} …")
        self._look(path, request)

    def _refused(self, reason: str) -> None:
        self._note(reason, error=True)
        self.set_focus(self.query_one("#new-source", Input))

    @work(thread=True, exclusive=True, group="source-look", exit_on_error=False)
    def _look(self, path: Path, request: SourceRequest) -> None:
        """Whether the folder is very wide: a bounded walk (up to about a second), off the UI thread."""
        try:
            caution, refusal = self.library.source_caution(path), ""
        except StoreError as exc:
            caution, refusal = "", str(exc)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._looked, path, request, caution, refusal)

    def _looked(self, path: Path, request: SourceRequest, caution: str, refusal: str) -> None:
        if self._looking is not request or self.app.screen is not self:
            return  # another folder asked for since, or the dialog closed
        self._looking = None
        if refusal:
            self._refused(refusal)
            return
        self._note("")
        if not caution:
            self.dismiss(request)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(request)
            else:
                self._note(f"Not added: {path} is not followed.")
                self.set_focus(self.query_one("#new-source", Input))

        # the home folder, /, a folder holding the library, a mounted disk, far more than pictures: asked first
        self.app.push_screen(ConfirmSourceScreen(f"Follow {one_line(str(path))}?", caution, "Follow it", "follow"),
                             answered)

    def action_remove(self) -> None:
        """Delete on the list: the Remove button's question for the highlighted folder (the path field keeps
        Delete for its text)."""
        if self.focused is self.query_one("#source-list"):
            self._remove()

    @on(Button.Pressed, "#remove")
    def _remove(self) -> None:
        index = self.query_one("#source-list", OptionList).highlighted
        if not self.sources or index is None:
            return
        self.dismiss(SourceRequest("remove", str(self.sources[index].path)))

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.action_close()


class SourceQuestion(Question):
    """A question about a source folder (dialog.Question)."""

    NAME = "source"


class ConfirmSourceScreen(SourceQuestion):
    """Following a very wide folder (the home folder, /, one holding the library, a mounted disk, one of far more
    than pictures): asks first, saying why."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="wide-source.cancel")]


class ConfirmRemoveSourceScreen(SourceQuestion):
    """Removing a source drops its images' records (favorites and collections with them): asks first."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="remove-source.cancel")]

    def __init__(self, folder: str, count: int | None, stay: str = "", curation: str = "") -> None:
        """`stay`: how many of its other images stay and why (SourceRemoval.stay); `curation`: how many of those
        that go are favorites and in collections (SourceRemoval.curation)."""
        if count is None or count:
            images = "linked images" if count is None else plural(count, "image")
            what = (f"Its {images} {'leaves' if count == 1 else 'leave'} the library. "
                    f"{curation + ' ' if curation else ''}"
                    f"If you follow a folder with {'this picture' if count == 1 else 'these pictures'} again, "
                    f"{'it comes' if count == 1 else 'they come'} back with "
                    f"{'its favorite and collections' if count == 1 else 'their favorites and collections'}. "
                    f"{stay + ' ' if stay else ''}No file is touched.")
        else:  # a copying source's images are the library's own
            what = ("No image leaves the library (its images were copied into it, or another source has them "
                    "too): the library only stops following the folder. No file is touched.")
        super().__init__(f"Stop following {one_line(folder)}?", what, "Remove", "remove")
        self.folder, self.count = folder, count


def source_removal(library: Library, folder: str) -> tuple[int | None, str, str]:
    """How many images removing the source drops (None when that cannot be told now), which stay and why, and how
    many of those that go are favorites and in collections."""
    try:
        going = library.source_removal(folder)
    except StoreError:
        return None, "", ""
    return going.drops, going.stay(), going.curation()


def undo_add(library: Library, folder: str, copy: bool, taking_in: list[Path] | None = None) -> str:
    """After Cancel: the folder is no longer a source. The add forgot it itself when it stopped; a child killed
    before it could (or one that finished first) left it recorded, with some files. Not once it took in the
    sources inside it (`taking_in`): then it stays followed, as said."""
    if not library.forget_added(folder, taking_in or []):
        taken = ", ".join(one_line(str(path)) for path in taking_in or [])
        return f"{one_line(folder)} is followed: it took in {taken} before the cancel (their images keep their " \
               "favorites and collections); the rest of it is read at the next scan."
    kept = " (the images copied so far stay in the library)" if copy else ""
    return f"Adding {one_line(folder)} was cancelled: it is not a source{kept}."


def open_sources(gallery) -> None:
    """The gallery's `w`: the sources dialog, then the scan (progress bar, Cancel) or the removal it asks for."""
    library = gallery.library
    screen = SourcesScreen(library)

    def done(outcome, verb: str, folder: str | None = None) -> None:
        if outcome is None:
            return
        if outcome.error is not None and folder is not None and followed_all_the_same(folder):
            # the add recorded the folder before its images failed (a full disk): followed, read at the next scan
            gallery.app.say_failure(f"{outcome.error} {one_line(folder)} is followed all the same: its pictures are "
                                    "read at the next scan, once the library can take them.", "Added, not read",
                                    severity="warning")
        elif outcome.error is not None:
            gallery.app.say_failure(str(outcome.error), f"Not {verb}")  # the watcher's, the same, is not said again
        elif outcome.result is not None:
            gallery.notify(outcome.result, title="Cancelled" if outcome.cancelled else f"Source {verb}",
                           markup=False, severity="warning" if outcome.cancelled else "information")
        watcher_changed = getattr(gallery.app, "sources_changed", None)
        if watcher_changed:
            watcher_changed()
        gallery.reload(keep_position=True)

    def followed_all_the_same(folder: str) -> bool:
        """A failed add left the folder followed (it is recorded before its images are)."""
        try:
            return library.source_holding(folder) is not None
        except StoreError:
            return False

    def answered(request: SourceRequest | None) -> None:
        if request is None:
            return
        if request.action == "add":
            try:
                taking_in = library.sources_taken_in(request.folder)
            except StoreError as exc:
                gallery.app.say_failure(str(exc), "Not added")
                return

            def add(progress, cancelled):
                def files_read(done: int, total: int) -> None:
                    progress(done, total, "files read")

                try:  # in a child process at a lower priority, as the watcher's rescans: the app stays quick
                    reports = run_in_child(library, request.folder, request.copy, files_read, cancelled,
                                           forget_if_cancelled=True)
                except OSError:  # no child process to be had: here, in this worker thread
                    reports = [library.add_source(request.folder, "copy" if request.copy else "link",
                                                  progress=files_read, cancel=cancelled, forget_if_cancelled=True)]
                if cancelled():  # a cancelled add follows nothing: what it read leaves the library again
                    if reports and reports[0].taken_in:  # it took them in before the cancel: kept, said
                        return f"{one_line(str(reports[0].source))}: {reports[0].summary()}"
                    return undo_add(library, request.folder, request.copy, taking_in)
                shared = library.source_shared_note(request.folder)  # another account follows it: what that means
                return f"{one_line(str(reports[0].source))}: {reports[0].summary()}" + (f" {shared}" if shared else "")

            gallery.app.push_screen(ProgressScreen(f"Reading {one_line(request.folder)}", add, total=None,
                                                   starting="Looking for pictures in the folder…"),
                                    lambda outcome: done(outcome, "added", request.folder))
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            def remove(progress, cancelled):
                n = library.remove_source(request.folder)
                back = (f" Follow a folder with {'this picture' if n == 1 else 'these pictures'} again and "
                        f"{'it comes' if n == 1 else 'they come'} back with "
                        f"{'its favorite and collections' if n == 1 else 'their favorites and collections'}.") \
                    if n else ""
                return f"No longer following {one_line(request.folder)}: {plural(n, 'image')} left " \
                       f"the library (no file touched).{back}"

            gallery.app.push_screen(ProgressScreen(f"Removing {one_line(request.folder)}", remove, total=None),
                                    lambda outcome: done(outcome, "removed"))

        def ask(removal: tuple[int | None, str, str]) -> None:
            gallery.app.push_screen(ConfirmRemoveSourceScreen(request.folder, *removal), confirmed)

        def count() -> None:  # what the removal drops, counted in a worker (half a second for a million pictures)
            with library.connection():
                removal = source_removal(library, request.folder)
            gallery.app.call_from_thread(ask, removal)

        gallery.run_worker(count, thread=True, group="source-removal", exit_on_error=False)

    gallery.app.push_screen(screen, answered)
