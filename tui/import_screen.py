"""Import from the app (I, or "Import" in the command palette): a path with completion, folders read with or
without their subfolders, a progress bar with Cancel, then the same summary as `myimages import`.

The import itself is `store.importer.import_files`, run by the progress dialog in a worker; listing a folder for
completion runs off the event loop too (a folder of 100,000 files must not stall the typing).
"""
from __future__ import annotations

import asyncio
import os
import shlex
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.suggester import Suggester
from textual.widgets import Button, Checkbox, Input, Static
from textual.worker import get_current_worker

from store.errors import StoreError
from store.formats import EXTENSIONS, FORMAT_NAMES_OR
from store.importer import ImportOptions, ImportReport, import_files, own_files_problem
from store.library import Library
from store.text import one_line, printable, storable, unescaped

from widgets.workers import work
from .dialog import Dialog, Question
from .progress_screen import JobOutcome, ProgressScreen

LISTED_AT_MOST = 5000  # names looked at per folder for the suggestion (a huge folder suggests from its first ones)
TAB_LISTED_AT_MOST = 100_000  # names read per folder on Tab (off the event loop); past them Tab completes nothing
DETAILS_AT_MOST = 200  # duplicate and failure lines shown in the summary (the counts are always whole)


def on_disk(path: str) -> str:
    """A path as typed, or, when nothing is there, with its \\xNN escapes read as the bytes they stand for, when
    that names something: a name that is not UTF-8 as completion shows it and a user types it ("dir\\xff/")."""
    if os.path.lexists(path):
        return path
    raw = unescaped(path)
    return raw if raw != path and os.path.lexists(raw) else path


def path_matches(text: str, folders_only: bool = False,
                 at_most: int = LISTED_AT_MOST) -> tuple[str, list[str], bool] | None:
    """The names in `text`'s folder that begin its last part (image files and folders, folders ending with "/";
    no hidden one unless that part begins with "."), sorted: (that part, the names, whether the folder held more
    than `at_most` names, so that some may be missing). None for an empty path, the bare root "/" (its first
    folder, /bin/, is no guess at what the user wants: new-user test 3 item 13) and a folder that cannot be read.
    A name that is not UTF-8 is given with those bytes escaped ("dir\\xff/", `storable`: it showed as
    "dir\\udcff/", NEWUSER13), as it can be typed; the folder typed so is read (`on_disk`)."""
    if not text or text.strip() == os.sep:
        return None
    typed = Path(os.path.expanduser(text))
    folder, start = (typed, "") if text.endswith(os.sep) else (typed.parent, typed.name)
    names = []
    more = False
    try:
        with os.scandir(on_disk(str(folder))) as entries:
            for n, entry in enumerate(entries):
                if n >= at_most:
                    more = True
                    break
                name = storable(entry.name)
                if name.startswith(start) and (start.startswith(".") or not name.startswith(".")):
                    is_dir = entry.is_dir()
                    if is_dir or not folders_only and Path(name).suffix.lower() in EXTENSIONS:
                        names.append(name + (os.sep if is_dir else ""))
    except OSError:
        return None
    return start, sorted(names), more


def complete_path(text: str, folders_only: bool = False) -> str | None:
    """`text` completed to the first image file or folder it begins, or None: the dimmed suggestion, which only
    → takes (Tab completes as a shell does: `tab_completion`). None for a path that names a folder whole (ending
    in "/"): its first sub-folder, dimmed after it, read as the path chosen (NEWUSER7 #29's …/batch2x/dirlink/);
    Tab lists what is in it."""
    if text.endswith(os.sep):
        return None
    found = path_matches(text, folders_only)
    if not found or not found[1]:
        return None
    start, names, _more = found
    completed = text + names[0][len(start):]
    return completed if completed != text else None


@dataclass(frozen=True)
class TabCompletion:
    """What Tab makes of a typed path, as a shell's Tab does: `value` is the text with what every match shares
    added (the whole name, a folder's with its "/", when one matches; the same text when they share nothing
    more), `matches` the names that begin what was typed, or the names in the folder it names whole."""
    value: str
    matches: tuple[str, ...]
    more: bool  # the folder held more names than were read: nothing is completed, the names are some of them
    inside: bool  # the text named a folder whole (ending in "/"): the matches are what is in it

    @property
    def to_list(self) -> bool:
        """Whether the matches are worth a line: several, or what is in a folder the text names whole."""
        return len(self.matches) > 1 or self.more or self.inside


def tab_completion(text: str, folders_only: bool = False) -> TabCompletion | None:
    """None when nothing matches. A path that names a folder whole (ending in "/") is not completed further:
    Tab does not go down into it (new-user test 7 #29), it lists what is there."""
    found = path_matches(text, folders_only, at_most=TAB_LISTED_AT_MOST)
    if not found or not found[1]:
        return None
    start, names, more = found
    shared = os.path.commonprefix(names) if start and not more else start  # a name not read may not share it
    return TabCompletion(text + shared[len(start):], tuple(names), more, inside=not start)


def matches_line(completion: TabCompletion, width: int = 100) -> str:
    """The matches on a line of about `width` characters: as many names as fit, then how many in all."""
    names = list(completion.matches)
    count = f"more than {len(names):,}" if completion.more else f"{len(names):,}"
    what = "in it" if completion.inside else "match"
    shown = ""
    for n, name in enumerate(names):
        if len(shown) + len(name) > width:
            return f"{count} {what}: {shown}… (type more)"
        shown += printable(name) + ("  " if n < len(names) - 1 else "")
    return f"{count} {what}: {shown}"


class PathSuggester(Suggester):
    """Textual's suggestion (shown dimmed after the cursor; → at the end takes it) from the file system."""

    def __init__(self, folders_only: bool = False) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.folders_only = folders_only

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value, self.folders_only)


class PathTab:
    """Tab in a path field, as a shell's (new-user test 7 #29: Tab took the dimmed suggestion, the first
    sub-folder, so Tab, Tab, Enter imported a folder the user never chose): Tab adds what every match shares (a
    folder's "/" when one folder matches) and lists the matches when several do; a Tab with nothing to add lists
    them (or what is in the folder the path names) once, and the next one leaves the field. It never picks one
    match among several, and never goes down into a folder the path names whole."""

    def __init__(self, field: Input, matches: Static, folders_only: bool = False) -> None:
        self.field, self.matches, self.folders_only = field, matches, folders_only
        self.listed_for: str | None = None  # the text whose matches the line shows

    async def press(self) -> bool:
        """True when Tab did something in the field; False when the focus should go on."""
        field = self.field
        before = field.value
        completion = await asyncio.to_thread(tab_completion, before, self.folders_only) if before else None
        if field.value != before:  # typed meanwhile: the field keeps the focus, and the new text
            return True
        if completion is None:  # nothing to complete
            return False
        if completion.value != before:
            field.value = completion.value
            field.cursor_position = len(completion.value)
            if len(completion.matches) > 1:
                self._list(completion)
            return True
        if completion.to_list and self.listed_for != before:
            self._list(completion)
            return True
        return False

    def _list(self, completion: TabCompletion) -> None:
        self.listed_for = completion.value
        self.matches.update(matches_line(completion))
        self.matches.display = True

    def typed(self, value: str) -> None:
        """The field changed: the line of matches goes when the text is no longer the one it lists for."""
        if value != self.listed_for:
            self.listed_for = None
            self.matches.display = False


class CompletesAPath:
    """Mixed into a dialog with a path field (`path_tab`, a PathTab, made in compose) and Tab bound to `complete`:
    Tab completes the path as a shell does; else, or when nothing is left to complete, the focus goes on; the line
    of matches goes once the text changes."""

    path_tab: PathTab

    async def action_complete(self) -> None:
        if self.focused is self.path_tab.field and await self.path_tab.press():  # type: ignore[attr-defined]
            return
        self.focus_next()  # type: ignore[attr-defined]

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self.path_tab.field:
            self.path_tab.typed(event.value)


def detail_lines(report: ImportReport) -> list[str]:
    """What `myimages import` prints before its counts: each duplicate and failure."""
    lines = [f"skipped: {printable(str(path))}: {why}" for path, why in report.skipped]
    lines += [f"restored: {printable(str(path))} is image #{image_id}, back from the trash"
              for path, image_id in report.restored]
    lines += [report.duplicate_line(path, image_id) for path, image_id in report.duplicates]
    lines += [f"note: {printable(str(path))}: {printable(note)}" for path, note in report.notes]
    lines += [f"failed: {printable(str(path))}: {printable(reason)}" for path, reason in report.failed]
    lines += report.left_out_lines("type its path")  # other formats, hidden folders: counted
    if len(lines) > DETAILS_AT_MOST:
        lines = lines[:DETAILS_AT_MOST] + [f"… and {len(lines) - DETAILS_AT_MOST} more"]
    return lines


def typed_path(text: str) -> Path:
    """The path the user means: as typed (its \\xNN escapes read as the bytes of a name that is not UTF-8 when only
    that names something: `on_disk`), or, when nothing is there, unquoted as a shell reads it (what
    drag-and-drop and "copy as path" give: '/tmp/with space/a.png', "…", /tmp/with\\ space/a.png) or a
    file:// address."""
    text = text.strip()
    path = Path(os.path.expanduser(text))
    if path.exists():
        return path
    raw = Path(unescaped(str(path)))  # a name that is not UTF-8, its bytes escaped as completion shows them
    if raw != path and raw.exists():
        return raw
    if text.startswith("file://"):
        return Path(os.path.expanduser(urllib.parse.unquote(urllib.parse.urlparse(text).path)))
    try:
        words = shlex.split(text)
    except ValueError:  # an unmatched quote: as typed
        return path
    return Path(os.path.expanduser(words[0])) if len(words) == 1 else path


def path_problem(text: str) -> str | None:
    """One sentence when the path cannot be imported, else None."""
    if not text.strip():
        return "Type the path of an image file or of a folder."
    path = typed_path(text)
    if not path.exists():
        return f"There is no file or folder at {printable(str(path))}."
    if path.is_file() and path.suffix.lower() not in EXTENSIONS:
        return f"{printable(path.name)} is not a {FORMAT_NAMES_OR} file."
    if not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
        return f"{printable(str(path))} cannot be read (permission denied)."
    return None


class ImportScreen(CompletesAPath, Dialog[list[int]]):
    """Answers the ids of the images imported (in order), for the gallery to show them."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="import.close"),
        Binding("tab", "complete", "Complete the path", show=False, id="import.complete"),
    ]
    HELP_TITLE = "Import"

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        self.imported: list[int] = []
        self.report: ImportReport | None = None
        self._looking: Path | None = None  # the folder being looked at before a recursive import (`_look`)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="import-dialog"):
            yield Static("Import images", classes="title")
            yield Static(f"A {FORMAT_NAMES_OR} file, or a folder of them (Tab completes).", classes="hint")
            self.path_tab = PathTab(Input(placeholder="~/outputs", id="import-path", suggester=PathSuggester()),
                                    Static("", id="import-matches", classes="hint", markup=False))
            yield self.path_tab.field
            yield self.path_tab.matches  # Tab's matches, when several
            yield Checkbox("Folders: their subfolders too", value=True, id="import-recursive")
            yield Static("", id="import-problem")
            with VerticalScroll(id="import-details-scroll"):
                yield Static("", id="import-details")
            yield Static("", id="import-counts")
            with Horizontal(classes="buttons"):
                yield Button("Import", id="import", variant="primary")
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        self.query_one("#import-details-scroll").display = False
        self.set_focus(self.query_one("#import-path", Input))

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#import")
    def _start(self) -> None:
        text = self.query_one("#import-path", Input).value
        problem = path_problem(text)
        self._say(problem or "")
        if problem:
            return
        path = typed_path(text)
        problem = own_files_problem(self.library, path)  # the library's folder: refused as the store would
        if problem:
            self._say(problem)
            return
        options = ImportOptions(recursive=self.query_one("#import-recursive", Checkbox).value)
        if options.recursive and path.is_dir():  # a very wide folder (the home folder, /) is asked about first
            self._looking = path
            self._say(f"Looking at {one_line(str(path))} …", error=False)
            self._look(path, options)
            return
        self._run(path, options)

    @work(thread=True, exclusive=True, group="import-look", exit_on_error=False)
    def _look(self, path: Path, options: ImportOptions) -> None:
        """Whether the folder is very wide, as `source add` asks (a bounded walk, up to about a second), off the UI
        thread (NEWUSER7 #32: the home folder was imported, caches and all, without a word)."""
        try:
            caution = self.library.source_caution(path.resolve(), importing=True)
        except (StoreError, OSError, RuntimeError):
            caution = ""
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._looked, path, options, caution)

    def _looked(self, path: Path, options: ImportOptions, caution: str) -> None:
        if self._looking != path or self.app.screen is not self:
            return  # another path asked for since, or the dialog closed
        self._looking = None
        self._say("")
        if not caution:
            self._run(path, options)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(path, options)
            else:
                self._say(f"Nothing was imported from {printable(str(path))}.")
                self.set_focus(self.query_one("#import-path", Input))

        self.app.push_screen(ConfirmWideImportScreen(f"Import {one_line(str(path))}?", caution, "Import it",
                                                     "import-wide"), answered)

    def _run(self, path: Path, options: ImportOptions) -> None:
        def job(progress, cancelled):
            with self.library.connection():
                return import_files(self.library, [path], options, cancel=cancelled,
                                    progress=lambda done, total, item: progress(done, total, f"files · {item.name}"))

        self.app.push_screen(ProgressScreen(f"Importing {printable(str(path))}", job), self._finished)

    def _finished(self, outcome: JobOutcome | None) -> None:
        if outcome is None:
            return
        if outcome.error is not None:
            self._say(str(outcome.error))
            return
        report: ImportReport = outcome.result
        self.report = report
        self.imported += [image_id for _path, image_id in report.imported + report.restored]  # shown: back too
        details = detail_lines(report)
        self.query_one("#import-details-scroll").display = bool(details)
        self.query_one("#import-details", Static).update(Text("\n".join(details)))
        self.query_one("#import-counts", Static).update(Text(report.summary(), style="bold"))
        field = self.query_one("#import-path", Input)
        field.value = ""
        self.set_focus(field)  # the next path can be typed at once (Enter on the empty field closes nothing)

    def _say(self, problem: str, error: bool = True) -> None:
        self.query_one("#import-problem", Static).update(Text(problem, style="bold red" if error else "")
                                                         if problem else "")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(self.imported)


class ConfirmWideImportScreen(Question):
    """Importing a very wide folder with its subfolders (the home folder, /, a mounted disk, far more than pictures):
    asks first, saying why, as following one does."""

    NAME = "import"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="wide-import.cancel")]
