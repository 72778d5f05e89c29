"""The downloads folder, chosen in the app (ctrl+s in the gallery, or "Download folder" in the command palette):
where `s` and the grid editor's `w` write. The folder typed (Tab completes) must be there and take files; a
refused one is said in one sentence and nothing changes. The choice is kept in the settings file (`downloads`),
as `--downloads`, MYIMAGES_DOWNLOADS and the file's own `downloads` set it."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from store.errors import StoreError
from store.files import writable_folder
from store.settings import default_downloads

from .dialog import Dialog
from .import_screen import CompletesAPath, PathSuggester, PathTab, typed_path


class DownloadFolderScreen(CompletesAPath, Dialog[Path]):
    """Answers the folder chosen (absolute), or None when closed."""

    BINDINGS = [
        Binding("escape", "close", "Cancel", id="download-folder.close"),
        Binding("tab", "complete", "Complete the path", show=False, id="download-folder.complete"),
    ]
    HELP_TITLE = "Download folder"

    def __init__(self, current: Path) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="download-folder-dialog"):
            yield Static("Download folder", classes="title")
            yield Static("Downloads are written here (a selection: into a new folder in it). A folder that is "
                         "there (Tab completes):", classes="hint")
            self.path_tab = PathTab(Input(str(self.current), id="download-folder",
                                          suggester=PathSuggester(folders_only=True)),
                                    Static("", id="download-folder-matches", classes="hint", markup=False),
                                    folders_only=True)
            yield self.path_tab.field
            yield self.path_tab.matches
            yield Static("", id="download-folder-problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Choose", id="choose", variant="primary")

    def on_mount(self) -> None:
        self.set_focus(self.path_tab.field)

    @on(Input.Submitted, "#download-folder")
    @on(Button.Pressed, "#choose")
    def _choose(self) -> None:
        text = self.path_tab.field.value.strip()
        path = typed_path(text) if text else None
        try:  # the default folder is made with its parents at the first download, as it always was
            folder = writable_folder(path or "", may_be_missing=path == default_downloads())
        except StoreError as exc:  # said here; the folder stays what it was
            self.query_one("#download-folder-problem", Static).update(Text(str(exc), style="bold red"))
            self.set_focus(self.path_tab.field)
            return
        self.dismiss(folder)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
