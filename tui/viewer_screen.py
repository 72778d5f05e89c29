"""The large view of one image, drawn with the best protocol the terminal has."""
from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from store.records import ImageRecord
from store.text import one_line
from widgets.thumbnails import large_image_class, load_picture

LARGE_PIXELS = 1024
MISSING = "(image not shown: --images none, or the file cannot be read)"


class ViewerScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="viewer.close")]

    def __init__(self, record: ImageRecord, mode: str) -> None:
        super().__init__()
        self.record = record
        self.mode = mode

    def compose(self) -> ComposeResult:
        with Vertical(id="viewer"):
            with Center(id="viewer-box"):
                yield Static("Loading…" if large_image_class(self.mode) else MISSING, id="large-missing")
            yield Static(Text(f"#{self.record.id}  {self.record.width}×{self.record.height}  "
                              f"{one_line(self.record.prompt)}", overflow="ellipsis", no_wrap=True),
                         id="viewer-caption")

    def on_mount(self) -> None:
        if large_image_class(self.mode) is not None:
            self.decode()

    @work(thread=True, exclusive=True, group="decode", exit_on_error=False)
    def decode(self) -> None:
        """Read and shrink the picture off the UI thread (about 90 ms for a 2048² image)."""
        picture = load_picture(self.record.path, LARGE_PIXELS)
        self.app.call_from_thread(self._show_picture, picture)

    def _show_picture(self, picture) -> None:
        placeholder = self.query_one("#large-missing", Static)
        if picture is None:
            placeholder.update(MISSING)
            return
        placeholder.remove()
        self.query_one("#viewer-box").mount(large_image_class(self.mode)(picture, id="large-image"))

    def action_close(self) -> None:
        self.dismiss(None)
