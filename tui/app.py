"""The My Images application: a thin App that opens the library and the gallery."""
from __future__ import annotations

from pathlib import Path

# Imported before the App starts: textual-image queries the terminal at import.
import widgets.thumbnails  # noqa: F401
from textual.app import App
from textual.binding import Binding

from store.library import Library

from .commands import GalleryCommands
from .gallery_screen import GalleryScreen


class MyImagesApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "My Images"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False, id="app.quit")]
    COMMANDS = App.COMMANDS | {GalleryCommands}

    def __init__(self, library: Library, *, images: str = "auto", downloads: Path | None = None) -> None:
        super().__init__()
        self.library = library
        self.image_mode = images
        from store.locations import downloads_folder

        self.downloads = downloads or downloads_folder()

    def on_mount(self) -> None:
        self.push_screen(GalleryScreen(self.library, self.image_mode))


def run(library_path: Path, *, account: str | None = None, database_url: str | None = None,
        images: str = "auto", downloads: Path | None = None) -> int:
    library = Library(library_path, account=account, database_url=database_url)
    try:
        MyImagesApp(library, images=images, downloads=downloads).run()
    finally:
        library.close()
    return 0
