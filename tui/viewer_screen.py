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
from widgets.thumbnails import (
    CachedHalfcellImage,
    cell_console,
    fit_cells,
    large_draws_cells,
    large_image_class,
    load_picture,
)

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
            self.call_after_refresh(self._start_decode)  # once laid out: the box's size is known

    def _start_decode(self) -> None:
        box = self.query_one("#viewer-box").content_size
        self.decode(box.width, box.height)

    @work(thread=True, exclusive=True, group="decode", exit_on_error=False)
    def decode(self, width: int, height: int) -> None:
        """Read and shrink the picture off the UI thread (about 90 ms for a 2048² image); when it is drawn
        as half-block cells, draw those here too (another 100 ms or more at 160×48)."""
        picture = load_picture(self.record.path, LARGE_PIXELS)
        strips = None
        if picture is not None and large_draws_cells(self.mode) and width > 0 and height > 0:
            columns, rows = fit_cells(width, height, picture.width, picture.height)
            strips = CachedHalfcellImage.render_strips(cell_console(), picture, columns, rows)
        self.app.call_from_thread(self._show_picture, picture, strips)

    def _show_picture(self, picture, strips) -> None:
        placeholder = self.query_one("#large-missing", Static)
        if picture is None:
            placeholder.update(MISSING)
            return
        placeholder.remove()
        if strips:
            widget = CachedHalfcellImage(picture, id="large-image")
            widget.prepare(strips)
        else:
            widget = large_image_class(self.mode)(picture, id="large-image")
        self.query_one("#viewer-box").mount(widget)

    def action_close(self) -> None:
        self.dismiss(None)
