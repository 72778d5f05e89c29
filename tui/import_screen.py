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
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.suggester import Suggester
from textual.widgets import Button, Checkbox, Input, Static
from textual.worker import get_current_worker

from store.errors import StoreError
from store.importer import EXTENSIONS, ImportOptions, ImportReport, import_files, own_files_problem
from store.library import Library
from store.text import one_line, printable

from .dialog import Dialog, Question
from .progress_screen import JobOutcome, ProgressScreen

LISTED_AT_MOST = 5000  # names looked at per folder while completing (a huge folder completes from its first ones)
DETAILS_AT_MOST = 200  # duplicate and failure lines shown in the summary (the counts are always whole)


def complete_path(text: str, folders_only: bool = False) -> str | None:
    """`text` completed to the first image file or folder it begins (folders end with "/"), or None. Not the
    bare root "/": its first folder (/bin/) is no guess at what the user wants, and beside the sources dialog's
    note about "/" it read as if that note were about /bin/ (new-user test 3 item 13)."""
    if not text or text.strip() == os.sep:
        return None
    typed = Path(os.path.expanduser(text))
    folder, start = (typed, "") if text.endswith(os.sep) else (typed.parent, typed.name)
    try:
        with os.scandir(folder) as entries:
            names = []
            for n, entry in enumerate(entries):
                if n >= LISTED_AT_MOST:
                    break
                if entry.name.startswith(start) and (start.startswith(".") or not entry.name.startswith(".")):
                    is_dir = entry.is_dir()
                    if is_dir or not folders_only and Path(entry.name).suffix.lower() in EXTENSIONS:
                        names.append(entry.name + (os.sep if is_dir else ""))
    except OSError:
        return None
    if not names:
        return None
    best = min(names)
    completed = text + best[len(start):]
    return completed if completed != text else None


class PathSuggester(Suggester):
    """Textual's suggestion (shown dimmed after the cursor; → or Tab takes it) from the file system."""

    def __init__(self, folders_only: bool = False) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.folders_only = folders_only

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(complete_path, value, self.folders_only)


async def take_completion(field: Input, folders_only: bool = False) -> bool:
    """Tab in a path field: take the suggestion (Input's own → at the end does), or, when it has not come yet,
    the completion looked up now (off the event loop). False when there is nothing to complete."""
    before = field.value
    field.cursor_position = len(field.value)
    field.action_cursor_right()
    if field.value != before:
        return True
    completed = await asyncio.to_thread(complete_path, before, folders_only) if before else None
    if completed and field.value == before:  # nothing typed meanwhile
        field.value = completed
        field.cursor_position = len(completed)
        return True
    return False


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
    """The path the user means: as typed, or, when nothing is there, unquoted as a shell reads it (what
    drag-and-drop and "copy as path" give: '/tmp/with space/a.png', "…", /tmp/with\\ space/a.png) or a
    file:// address."""
    text = text.strip()
    path = Path(os.path.expanduser(text))
    if path.exists():
        return path
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
        return f"{printable(path.name)} is not a PNG, JPEG or WebP file."
    if not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
        return f"{printable(str(path))} cannot be read (permission denied)."
    return None


class ImportScreen(Dialog[list[int]]):
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
            yield Static("A PNG, JPEG or WebP file, or a folder of them (Tab or → completes).", classes="hint")
            yield Input(placeholder="~/outputs", id="import-path", suggester=PathSuggester())
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

    async def action_complete(self) -> None:
        """Tab in the path: take the suggestion (Input's own → at the end does), or, when it has not come yet,
        the completion looked up now (off the event loop); else the next field."""
        field = self.query_one("#import-path", Input)
        if self.focused is field and await take_completion(field):
            return
        self.focus_next()

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
